//! `facetra completions <shell>`.

use clap::CommandFactory;
use clap_complete::Shell;

/// Print a completion script for SHELL to standard output.
#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

impl Cmd {
    pub fn run(&self) -> anyhow::Result<()> {
        let mut command = crate::Cli::command();
        clap_complete::generate(self.shell, &mut command, "facetra", &mut std::io::stdout());
        Ok(())
    }
}
