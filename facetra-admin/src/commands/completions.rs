//! `facetra-admin completions <shell>`.

use clap_complete::Shell;

/// Where each shell looks for the script.
const INSTALL: &str = "Install:
  bash   facetra-admin completions bash > ~/.local/share/bash-completion/completions/facetra-admin
  zsh    facetra-admin completions zsh > \"${fpath[1]}/_facetra-admin\"   (then restart the shell)
  fish   facetra-admin completions fish > ~/.config/fish/completions/facetra-admin.fish
  pwsh   facetra-admin completions powershell >> $PROFILE";

/// Print a completion script for SHELL to standard output.
#[derive(Debug, clap::Args)]
#[command(after_help = INSTALL)]
pub struct Cmd {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

impl Cmd {
    pub fn run(&self) -> anyhow::Result<()> {
        let mut command = crate::command();
        clap_complete::generate(
            self.shell,
            &mut command,
            "facetra-admin",
            &mut std::io::stdout(),
        );
        Ok(())
    }
}
