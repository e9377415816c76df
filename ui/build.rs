//! Compiles the Slint UI in this folder into the Rust code `lib.rs`
//! includes.

fn main() {
    // Element debug info lets the UI tests find elements by label; release
    // builds leave it out.
    let debug = std::env::var("PROFILE").as_deref() == Ok("debug");
    // Translations are bundled into the binary: no files to install, and
    // msgids without context (one translation per sentence, everywhere).
    let config = slint_build::CompilerConfiguration::new()
        .with_style("fluent".into())
        .with_debug_info(debug)
        .with_bundled_translations("translations")
        .with_default_translation_context(slint_build::DefaultTranslationContext::None);
    slint_build::compile_with_config("app-window.slint", config)
        .expect("compiling the Slint UI in ui/");
}
