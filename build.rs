//! Build script: checks that the process will have exactly one libuv, and
//! generates the C header with cbindgen.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=KR_UVSHIM_WRITE_HEADER");

    // libuv-sys2 silently compiles its own libuv when pkg-config finds none;
    // the default build must bind to the host's libuv instead.
    if env::var_os("CARGO_FEATURE_BUNDLED").is_none() {
        if let Err(e) = pkg_config::Config::new()
            .range_version("1.44.2".."1.45.0")
            .cargo_metadata(false)
            .probe("libuv")
        {
            panic!(
                "kr-uvshim binds to the system libuv 1.44 (the one the host links), found with \
                 pkg-config, and it was not found: {e}\nInstall it (Debian: apt-get install \
                 libuv1-dev pkg-config), or build with `--features bundled` to compile libuv \
                 into the library (only for hosts that link no libuv of their own)."
            );
        }
    }

    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("kr_uvshim.h");
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut header = Vec::new();
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen failed")
        .write(&mut header);
    // Rust cannot name a parameter `loop`; C readers expect libuv's spelling.
    let header = String::from_utf8(header).expect("UTF-8 header").replace("uv_loop_t *loop_", "uv_loop_t *loop");
    std::fs::write(&out, header).expect("write generated header");
    if env::var_os("KR_UVSHIM_WRITE_HEADER").is_some() {
        std::fs::copy(&out, crate_dir.join("include/kr_uvshim.h")).expect("write include/kr_uvshim.h");
    }
}
