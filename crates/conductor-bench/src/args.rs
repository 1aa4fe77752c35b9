//! Command-line handling the benchmark binaries share: `--help`, an unknown argument, and a
//! flag's value, each answered with the binary's usage instead of a panic. Each binary
//! includes this file and uses part of it.
#![allow(dead_code)]

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

/// Flags given by name, anywhere on the command line (`--runs 3 --quick`), checked against
/// the binary's known ones: `--help` and anything unknown are answered by [`Usage`].
pub struct Flags {
    args: Vec<String>,
}

impl Usage {
    /// Reads the command line: `with_value` flags take the next argument, `switches` none.
    pub fn flags(&self, with_value: &[&str], switches: &[&str]) -> Flags {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut i = 0;
        while i < args.len() {
            let a = args[i].as_str();
            if with_value.contains(&a) {
                if i + 1 >= args.len() {
                    self.fail(&format!("{a} needs a value"));
                }
                i += 2;
            } else if switches.contains(&a) {
                i += 1;
            } else {
                self.help_or_unknown(a);
            }
        }
        Flags { args }
    }
}

impl Flags {
    /// The value after `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        let i = self.args.iter().position(|a| a == name)?;
        self.args.get(i + 1).map(String::as_str)
    }

    /// The value after `name` parsed, or `default`; an unreadable value exits 2 with `usage`.
    pub fn parsed<T: FromStr>(&self, usage: &Usage, name: &str, default: T) -> T {
        match self.get(name) {
            Some(v) => v
                .parse()
                .unwrap_or_else(|_| usage.fail(&format!("{name}: cannot read {v:?}"))),
            None => default,
        }
    }

    /// Whether the switch `name` was given.
    pub fn has(&self, name: &str) -> bool {
        self.args.iter().any(|a| a == name)
    }
}
