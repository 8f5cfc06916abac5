//! `chat-demo`: the chat chapter's exchanges in the terminal (`just chat`, `just chat-gap`,
//! `just chat-deploy`, `just chat-slow`). They start nginx and redis-server themselves.

fn main() -> std::process::ExitCode {
    tap::demo::main("chat-demo", chat::demo::DEMOS)
}
