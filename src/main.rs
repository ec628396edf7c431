//! sqsim command line. The only place that parses arguments and prints.
mod cli;

fn main() {
    stdout_errors_are_errors();
    let code = match cli::main() {
        Ok(()) => 0,
        Err(e) => {
            // one line, the whole cause chain, no backtrace: user errors are not bugs
            let mut msg = format!("error: {e}");
            let mut src = e.source();
            while let Some(s) = src {
                // Error::Io and friends already print their source; don't repeat it
                let text = s.to_string();
                if !msg.contains(&text) {
                    msg.push_str(&format!(": {text}"));
                }
                src = s.source();
            }
            eprintln!("{msg}");
            1
        }
    };
    std::process::exit(code);
}

/// `print!` panics when stdout fails (`sqsim ... > /dev/full`, a closed pipe).
/// That is the user's environment, not a bug: report it as one `error:` line
/// (or, for a closed pipe as in `sqsim uset | head`, exit quietly like a Unix
/// tool killed by SIGPIPE). Every other panic keeps the default report.
fn stdout_errors_are_errors() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if let Some(why) = msg.strip_prefix("failed printing to stdout: ") {
            if why.starts_with("Broken pipe") {
                std::process::exit(141);
            }
            eprintln!("error: cannot write to standard output: {why}");
            std::process::exit(1);
        }
        default(info);
    }));
}
