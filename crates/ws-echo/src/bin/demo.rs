//! `ws-echo-demo`: the echo chapter's exchange in the terminal (`just ws-echo`).

fn main() -> std::process::ExitCode {
    tap::demo::main("ws-echo-demo", ws_echo::demo::DEMOS)
}
