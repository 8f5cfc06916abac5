//! `beyond-demo NAME`: the chapter "After HTTP/1.1"'s exchanges, every frame printed live.

use std::process::ExitCode;

fn main() -> ExitCode {
    tap::demo::main("beyond-demo", beyond::demo::DEMOS)
}
