//! `heartbeat-demo`: the heartbeat chapter's exchanges in the terminal (`just heartbeat`,
//! `just heartbeat --blackhole`, `just endings`).

fn main() -> std::process::ExitCode {
    tap::demo::main("heartbeat-demo", heartbeat::demo::DEMOS)
}
