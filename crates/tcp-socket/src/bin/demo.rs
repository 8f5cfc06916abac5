//! `tcp-socket-demo`: the socket chapter's exchanges in the terminal (`just tcp-echo`,
//! `just tcp-framing`).

fn main() -> std::process::ExitCode {
    tap::demo::main("tcp-socket-demo", tcp_socket::demo::DEMOS)
}
