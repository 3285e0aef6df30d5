//! A throw-away PostgreSQL cluster for fault tests: `initdb` into a temporary folder,
//! a free port on 127.0.0.1, trust authentication. A test may restart it, kill it or
//! turn TLS on without disturbing any other database on the machine. The server
//! binaries are found under /usr/lib/postgresql (Debian) or in `PPE_TEST_PG_BINDIR`.
//! PostgreSQL refuses to run as root, so as root the cluster runs as `postgres`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub struct PgCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    as_postgres: bool,
}

/// The newest PostgreSQL server binaries on the machine.
fn bindir() -> PathBuf {
    if let Ok(d) = std::env::var("PPE_TEST_PG_BINDIR") {
        return PathBuf::from(d);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries under /usr/lib/postgresql (or PPE_TEST_PG_BINDIR)")
        .filter_map(|e| {
            let e = e.ok()?;
            let v = e.file_name().to_str()?.parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, p)| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("no initdb under /usr/lib/postgresql")
        .1
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl PgCluster {
    /// Creates and starts a cluster.
    pub fn start() -> PgCluster {
        let dir = tempfile::Builder::new()
            .prefix("ppe-pg-")
            .tempdir()
            .expect("temp dir");
        let as_postgres = is_root();
        let c = PgCluster {
            dir,
            bin: bindir(),
            port: free_port(),
            as_postgres,
        };
        if as_postgres {
            c.sh("chown", &["-R", "postgres:postgres", c.path_str()]);
            // The folder's parents must let postgres through.
            c.sh("chmod", &["755", c.path_str()]);
        }
        c.run(
            "initdb",
            &[
                "-D",
                &c.data(),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        c.conf(&format!(
            "port = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
             fsync = on\nmax_connections = 200\n",
            c.port,
            c.path_str()
        ));
        c.up();
        c
    }

    fn path_str(&self) -> &str {
        self.dir.path().to_str().expect("utf-8 temp path")
    }

    fn data(&self) -> String {
        format!("{}/data", self.path_str())
    }

    /// Runs a PostgreSQL binary (as `postgres` when we are root); panics on failure.
    fn run(&self, program: &str, args: &[&str]) -> String {
        let exe = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd.args(args).output().expect("run a PostgreSQL binary");
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn sh(&self, program: &str, args: &[&str]) {
        let st = Command::new(program).args(args).status().expect(program);
        assert!(st.success(), "{program} {args:?}");
    }

    /// Appends to postgresql.conf (read at the next start).
    pub fn conf(&self, lines: &str) {
        use std::io::Write;
        let path = format!("{}/postgresql.conf", self.data());
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("postgresql.conf");
        f.write_all(lines.as_bytes())
            .expect("write postgresql.conf");
    }

    /// Replaces pg_hba.conf.
    pub fn hba(&self, text: &str) {
        std::fs::write(format!("{}/pg_hba.conf", self.data()), text).expect("pg_hba.conf");
    }

    /// Writes a file into the data folder, owned by the server's user, mode 0600.
    pub fn put_file(&self, name: &str, bytes: &[u8]) -> String {
        use std::os::unix::fs::PermissionsExt;
        let path = format!("{}/{name}", self.data());
        std::fs::write(&path, bytes).expect("write into the data folder");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        if self.as_postgres {
            self.sh("chown", &["postgres:postgres", &path]);
        }
        path
    }

    /// Starts the server and waits until it accepts connections.
    pub fn up(&self) {
        let log = format!("{}/server.log", self.path_str());
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-l", &log, "-w", "-t", "60", "start"],
        );
    }

    /// A clean restart (`pg_ctl restart -m fast`): sessions are terminated.
    pub fn restart(&self) {
        let log = format!("{}/server.log", self.path_str());
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &log,
                "-m",
                "fast",
                "-w",
                "restart",
            ],
        );
    }

    /// Kills the postmaster and every backend with SIGKILL, as a crash would; the
    /// next start recovers from the WAL.
    pub fn kill9(&self) {
        let pid = std::fs::read_to_string(format!("{}/postmaster.pid", self.data()))
            .expect("postmaster.pid")
            .lines()
            .next()
            .expect("pid line")
            .trim()
            .to_owned();
        let children = Command::new("pgrep")
            .args(["-P", &pid])
            .output()
            .expect("pgrep");
        let mut pids = vec![pid.clone()];
        pids.extend(
            String::from_utf8_lossy(&children.stdout)
                .split_whitespace()
                .map(str::to_owned),
        );
        let _ = Command::new("kill").arg("-9").args(&pids).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The URL of database `db` as the superuser, with extra URL parameters.
    pub fn url(&self, db: &str, params: &str) -> String {
        let sep = if params.is_empty() { "" } else { "?" };
        format!(
            "postgres://postgres@127.0.0.1:{}/{db}{sep}{params}",
            self.port
        )
    }

    /// The server's log so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(format!("{}/server.log", self.path_str())).unwrap_or_default()
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let exe = self.bin.join("pg_ctl");
        let data = self.data();
        let args = ["-D", data.as_str(), "-m", "immediate", "stop"];
        let _ = if self.as_postgres {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&exe)
                .args(args)
                .output()
        } else {
            Command::new(&exe).args(args).output()
        };
    }
}
