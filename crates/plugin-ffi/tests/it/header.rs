//! `include/smbgw_plugin.h` is what cbindgen generates from the current
//! source. `SMBGW_WRITE_HEADER=1` rewrites it instead of failing.

use std::path::Path;

#[test]
fn header_is_current() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).unwrap();
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen cannot generate the header")
        .write(&mut generated);
    let generated = String::from_utf8(generated).unwrap();
    let path = crate_dir.join("include/smbgw_plugin.h");
    if std::env::var("SMBGW_WRITE_HEADER").as_deref() == Ok("1") {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale; regenerate it with `SMBGW_WRITE_HEADER=1 cargo test -p smbgw-plugin-ffi --test it header` and commit it",
        path.display()
    );
    // The functions the Perl plugin attaches, and the documented rules.
    for f in [
        "char *smbgw_call(const char *request);",
        "void smbgw_string_free(char *s);",
        "const char *smbgw_version(void);",
        "uint32_t smbgw_api_version(void);",
        "Thread safety",
        "Ownership",
    ] {
        assert!(generated.contains(f), "the header lacks {f:?}");
    }
}

#[test]
fn header_compiles_as_c_and_cpp() {
    if !testkit::require(
        "header_compiles_as_c_and_cpp",
        &["cc", "c++"],
        "apt-get install -y gcc g++",
    ) {
        return;
    }
    let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("include");
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("use.c");
    std::fs::write(
        &src,
        "#include \"smbgw_plugin.h\"\nint main(void) { char *a = smbgw_call(\"{}\"); smbgw_string_free(a); return (int)smbgw_api_version() - SMBGW_API_VERSION; }\n",
    )
    .unwrap();
    for (compiler, lang) in [("cc", "c"), ("c++", "c++")] {
        let out = std::process::Command::new(compiler)
            .args(["-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-x", lang])
            .arg("-I")
            .arg(&include)
            .arg(&src)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{compiler}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
