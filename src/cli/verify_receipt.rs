//! `locker-kiosk verify-receipt TEXT`: checks a courier's proof of
//! delivery against the locker's public key and prints what it says.

use std::process::ExitCode;

use clap::Args;

use super::GlobalArgs;
use crate::app::data_dir::RECEIPT_PUBLIC_KEY_FILE;
use crate::app::system::utc_time;
use crate::domain::receipt::{self, Receipt, ReceiptLine};

#[derive(Debug, Args)]
pub struct VerifyReceiptArgs {
    /// The receipt: the text of the QR code on the courier's summary screen (LKR1.…)
    #[arg(required_unless_present = "show_key")]
    pub text: Option<String>,
    /// The locker's public key in hex [default: the one in the data directory]
    #[arg(long, value_name = "HEX")]
    pub key: Option<String>,
    /// Print this locker's public key (to give to carriers) and stop
    #[arg(long)]
    pub show_key: bool,
}

pub fn verify_receipt(global: &GlobalArgs, args: &VerifyReceiptArgs) -> ExitCode {
    match run(global, args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("locker-kiosk verify-receipt: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(global: &GlobalArgs, args: &VerifyReceiptArgs) -> Result<(), String> {
    let key_hex = match &args.key {
        Some(hex) => hex.clone(),
        None => {
            let path = global.data_dir().join(RECEIPT_PUBLIC_KEY_FILE);
            std::fs::read_to_string(&path).map_err(|e| {
                format!(
                    "no public key given and none in {} ({e}); pass --key HEX or run the kiosk once",
                    path.display()
                )
            })?
        }
    };
    let key = receipt::key_from_hex(&key_hex).map_err(|e| e.to_string())?;
    if args.show_key {
        println!("{}", receipt::to_hex(&key));
        return Ok(());
    }
    let text = args.text.as_deref().unwrap_or_default();
    let proof = receipt::verify(text, &key).map_err(|e| e.to_string())?;
    print!("{}", describe(&proof));
    Ok(())
}

/// The receipt in plain lines.
pub fn describe(proof: &Receipt) -> String {
    let mut out = format!(
        "valid: signed by locker {}\ncourier: {} ({})\nissued: {}\n",
        proof.locker,
        proof.courier,
        proof.company,
        utc_time(proof.issued_at)
    );
    let lines = |out: &mut String, what: &str, lines: &[ReceiptLine]| {
        for line in lines {
            out.push_str(&format!(
                "{what}: {} in door {} at {}\n",
                line.tracking,
                line.door,
                utc_time(line.at)
            ));
        }
    };
    lines(&mut out, "deposited", &proof.deposited);
    lines(&mut out, "taken back", &proof.retrieved);
    out
}
