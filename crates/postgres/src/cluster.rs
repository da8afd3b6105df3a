//! Local clusters: a PostgreSQL server started from the machine's server binaries in a folder
//! of its own, on a free port, as the `postgres` user when running as root (`initdb` refuses
//! root). haste starts one as a last resort for shadow databases, when the target server lets
//! it create none; tests and benchmarks start them for themselves.
//!
//! The binaries: `HASTE_PG_BIN`, else the newest `/usr/lib/postgresql/*/bin`, else
//! `pg_config --bindir`, else `PATH`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether the server syncs to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `fsync` and `synchronous_commit` on, as in production: for benchmarks.
    On,
    /// Off: for tests.
    Off,
}

/// A PostgreSQL cluster started from the machine's server binaries.
#[derive(Debug)]
pub struct LocalCluster {
    /// `postgres://postgres@127.0.0.1:<port>` (append `/<database>`).
    pub url: String,
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    /// The server binaries it runs from.
    pub bin: PathBuf,
    data: PathBuf,
}

impl LocalCluster {
    /// Initializes a new cluster in `dir/data` (wiping an old one) and starts it on a free port.
    pub fn start(dir: &Path, durability: Durability) -> Result<LocalCluster, String> {
        LocalCluster::start_with(dir, durability, &[])
    }

    /// Whether [`LocalCluster::start`] can run here: the folder of the server binaries it
    /// would use, or why it cannot (no binaries; as root, no `postgres` user to run them as).
    /// A prediction from what is installed, without starting anything.
    pub fn can_start() -> Result<PathBuf, String> {
        let bin = server_binaries()?;
        if let Some(missing) =
            ["initdb", "pg_ctl", "postgres"].into_iter().find(|name| !bin.join(name).exists())
        {
            return Err(format!("{} has no {missing}", bin.display()));
        }
        if current_uid() == 0
            && !Command::new("id").arg("-u").arg("postgres").output().is_ok_and(|o| o.status.success())
        {
            return Err("running as root, and there is no `postgres` user to run the server as".into());
        }
        Ok(bin)
    }

    /// Like [`LocalCluster::start`], with more server settings (`ssl=on`, ...), written to the
    /// cluster's `postgresql.conf` after `initdb`.
    pub fn start_with(dir: &Path, durability: Durability, settings: &[&str]) -> Result<LocalCluster, String> {
        let bin = server_binaries()?;
        let data = dir.join("data");
        let _ = fs::remove_dir_all(&data);
        if current_uid() == 0 {
            run(Command::new("chown").arg("postgres:").arg(dir))?;
        }
        run(as_owner(&bin.join("initdb")).arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-instructions",
        ]))?;
        if !settings.is_empty() {
            let conf = data.join("postgresql.conf");
            let mut text = fs::read_to_string(&conf).map_err(|e| e.to_string())?;
            for setting in settings {
                text.push_str(setting);
                text.push('\n');
            }
            fs::write(&conf, text).map_err(|e| e.to_string())?;
        }
        let port = free_port()?;
        let mut options = format!(
            "-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={} -c max_connections=300",
            dir.display()
        );
        if durability == Durability::Off {
            options.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        run(as_owner(&bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.join("server.log"))
            .args(["-w", "-t", "60", "-o", &options, "start"]))?;
        Ok(LocalCluster { url: format!("postgres://postgres@127.0.0.1:{port}"), port, bin, data })
    }

    /// Starts a streaming standby of `primary` in `dir` (`pg_basebackup -R`) on a free port.
    pub fn start_standby(dir: &Path, primary: &LocalCluster) -> Result<LocalCluster, String> {
        fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        if current_uid() == 0 {
            run(Command::new("chown").arg("postgres:").arg(dir))?;
        }
        let data = dir.join("data");
        run(as_owner(&primary.bin.join("pg_basebackup"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &primary.port.to_string(),
                "-U",
                "postgres",
                "-R",
                "-X",
                "stream",
                "-D",
            ])
            .arg(&data))?;
        let port = free_port()?;
        let options = format!(
            "-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={} -c hot_standby=on -c max_connections=300",
            dir.display()
        );
        run(as_owner(&primary.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.join("server.log"))
            .args(["-w", "-t", "60", "-o", &options, "start"]))?;
        Ok(LocalCluster {
            url: format!("postgres://postgres@127.0.0.1:{port}"),
            port,
            bin: primary.bin.clone(),
            data,
        })
    }

    /// The cluster's data folder.
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// Restarts the server on the same port, ending every session.
    pub fn restart(&self) -> Result<(), String> {
        // With its log file named again: otherwise the new server writes to pg_ctl's output,
        // which then never reaches end of file.
        let log = self.data.with_file_name("server.log");
        run(as_owner(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(log)
            .args(["-m", "fast", "-w", "restart"]))
    }

    /// Stops the server (its files stay until the folder is removed).
    pub fn stop(&self) -> Result<(), String> {
        run(as_owner(&self.bin.join("pg_ctl")).arg("-D").arg(&self.data).args(["-m", "fast", "-w", "stop"]))
    }
}

impl Drop for LocalCluster {
    /// A cluster goes with its value, also when what started it fails.
    fn drop(&mut self) {
        if self.data.join("postmaster.pid").exists() {
            let _ = run(as_owner(&self.bin.join("pg_ctl")).arg("-D").arg(&self.data).args([
                "-m",
                "immediate",
                "-w",
                "stop",
            ]));
        }
    }
}

/// A command that runs `program` as the cluster's owner: `postgres` when we are root, since
/// `initdb` refuses root.
fn as_owner(program: &Path) -> Command {
    if current_uid() == 0 {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// The folder of the machine's PostgreSQL server binaries.
pub fn server_binaries() -> Result<PathBuf, String> {
    if let Some(bin) = std::env::var_os("HASTE_PG_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| Some((entry.file_name().to_str()?.parse().ok()?, entry.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output()
        && output.status.success()
    {
        let bin = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if bin.join("initdb").exists() {
            return Ok(bin);
        }
    }
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .find(|dir| dir.join("initdb").exists() && dir.join("pg_ctl").exists())
        .ok_or_else(|| {
            "no PostgreSQL server binaries (initdb, pg_ctl) found; install postgresql or set HASTE_PG_BIN"
                .into()
        })
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener.local_addr().map(|addr| addr.port()).map_err(|e| e.to_string())
}

/// This process's user id (`u32::MAX` when `id -u` cannot tell).
pub fn current_uid() -> u32 {
    Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .and_then(|output| String::from_utf8_lossy(&output.stdout).trim().parse().ok())
        .unwrap_or(u32::MAX)
}
