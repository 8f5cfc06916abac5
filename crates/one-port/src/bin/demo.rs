//! `one-port-demo`: the one-port chapter's exchanges in the terminal (`just wss`).

fn main() -> std::process::ExitCode {
    tap::demo::main("one-port-demo", one_port::demo::DEMOS)
}
