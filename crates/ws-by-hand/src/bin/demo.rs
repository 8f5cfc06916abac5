//! `ws-by-hand-demo`: the by-hand server's exchanges in the terminal (`just ws-by-hand`).

fn main() -> std::process::ExitCode {
    tap::demo::main("ws-by-hand-demo", ws_by_hand::demo::DEMOS)
}
