//! sqsim command line. The only place that parses arguments and prints.
mod cli;

fn main() {
    let code = match cli::main() {
        Ok(()) => 0,
        Err(e) => {
            // one line, the whole cause chain, no backtrace: user errors are not bugs
            let mut msg = format!("error: {e}");
            let mut src = e.source();
            while let Some(s) = src {
                msg.push_str(&format!(": {s}"));
                src = s.source();
            }
            eprintln!("{msg}");
            1
        }
    };
    std::process::exit(code);
}
