//! `locker-kiosk screenshot`: a screen with demo data, rendered to a PNG
//! headlessly through the software renderer.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::ui::screenshot::{SCREENS, render};

#[derive(Debug, Args)]
pub struct ScreenshotArgs {
    /// The screen to render, or `list`
    #[arg(long)]
    pub screen: String,
    /// Panel size in pixels, e.g. 800x480, 1280x800, 1080x1920
    #[arg(long, default_value = "1280x800", value_parser = parse_size)]
    pub size: (u32, u32),
    /// Language of the screen: en, de or es
    #[arg(long, default_value = "en")]
    pub lang: String,
    /// In the high-contrast theme a visitor can choose at home
    #[arg(long)]
    pub high_contrast: bool,
    /// Where to write the PNG
    #[arg(long, default_value = "screenshot.png")]
    pub out: PathBuf,
}

fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text
        .split_once('x')
        .ok_or_else(|| format!("`{text}` is not WIDTHxHEIGHT"))?;
    let w: u32 = w.parse().map_err(|_| format!("bad width in `{text}`"))?;
    let h: u32 = h.parse().map_err(|_| format!("bad height in `{text}`"))?;
    if !(240..=4096).contains(&w) || !(240..=4096).contains(&h) {
        return Err(format!("{text} is not a panel size"));
    }
    Ok((w, h))
}

pub fn screenshot(args: &ScreenshotArgs) -> ExitCode {
    if args.screen == "list" {
        for screen in SCREENS {
            println!("{screen}");
        }
        return ExitCode::SUCCESS;
    }
    match render(
        &args.screen,
        args.size.0,
        args.size.1,
        &args.lang,
        args.high_contrast,
        &args.out,
    ) {
        Ok(()) => {
            println!("{}", args.out.display());
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("locker-kiosk screenshot: {message}");
            ExitCode::FAILURE
        }
    }
}
