//! Command-line handling the benchmark binaries share: `--help`, an unknown argument, and a
//! flag's value, each answered with the binary's usage instead of a panic.

use std::str::FromStr;

/// A binary's command lines and the source file whose doc comment explains them.
pub struct Usage {
    pub lines: &'static str,
    pub source: &'static str,
}

impl Usage {
    /// `--help` prints the usage and exits 0; anything else is an unknown argument: the usage
    /// on stderr and exit code 2.
    pub fn help_or_unknown(&self, arg: &str) -> ! {
        if arg == "--help" || arg == "-h" {
            println!("{}\n(see the doc comment of {})", self.lines, self.source);
            std::process::exit(0)
        }
        self.fail(&format!("unknown argument {arg:?}"))
    }

    /// The value after `flag`, parsed; a missing or unparsable one exits 2 with the usage.
    pub fn value<T: FromStr>(&self, args: &mut impl Iterator<Item = String>, flag: &str) -> T {
        match args.next() {
            Some(v) => v
                .parse()
                .unwrap_or_else(|_| self.fail(&format!("{flag}: cannot read {v:?}"))),
            None => self.fail(&format!("{flag} needs a value")),
        }
    }

    /// Exits 2 with `what` and the usage.
    pub fn fail(&self, what: &str) -> ! {
        eprintln!("{what}; usage:\n{}", self.lines);
        std::process::exit(2)
    }
}
