//! The Debian package (`cargo deb`, packaging/), built from this build's
//! binary and installed with dpkg into a throwaway root: an overlay of this
//! machine's own root in a mount namespace of its own, so that nothing of
//! the machine changes. A real systemd boots in it (a PID namespace of its
//! own) and runs the installed unit: READY, the watchdog restarting a
//! frozen screen, an upgrade keeping every parcel, remove and purge.
//! Needs root, as CI and scripts/test run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::FrozenThread;
use crate::screen::bare_x_server;

const UNIT: &str = "locker-kiosk.service";

/// `cargo deb` of the binary this build made, as version `version`.
fn build_deb(version: &str, out: &Path) -> PathBuf {
    let file = out.join(format!("locker-kiosk_{version}.deb"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let binary = Path::new(env!("CARGO_BIN_EXE_locker-kiosk"));
    // cargo-deb finds the binary by its profile: the tests' is dev's.
    assert!(
        binary.parent().unwrap().ends_with("debug"),
        "{}",
        binary.display()
    );
    // One cargo-deb at a time: it stages its files under target/.
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/package-test.lock");
    let built = Command::new("flock")
        .arg(&lock)
        .arg(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["deb", "--no-build", "--profile", "dev", "--no-strip"])
        // The system's gzip: cargo-deb's own compressor takes minutes on
        // an unstripped test binary.
        .args(["--fast", "--compress-type", "gz", "--compress-system"])
        .args(["--deb-version", version, "--output"])
        .arg(&file)
        .output()
        .expect("cargo is missing");
    assert!(
        built.status.success(),
        "cargo deb failed (scripts/test installs cargo-deb):\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    file
}

/// What a finished command printed, stdout then stderr.
fn printed(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn run(command: &mut Command) -> String {
    let out = command.output().unwrap();
    let text = printed(&out);
    assert!(out.status.success(), "{command:?} failed:\n{text}");
    text
}

/// A throwaway root with systemd running in it as PID 1.
struct Root {
    /// The overlay's folders; removed after the namespace ends.
    _dir: tempfile::TempDir,
    /// `unshare`, whose child is the root's systemd.
    holder: std::process::Child,
    systemd: u32,
}

impl Root {
    /// Mounts an overlay of `/` (changes go to a folder of the test's),
    /// the API file systems, and `debs` at /mnt/debs, then starts systemd.
    fn boot(debs: &Path) -> Root {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["upper", "work", "merged"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        let script = r#"
            set -e
            base=$1 debs=$2
            root=$base/merged
            mount -t overlay overlay -o lowerdir=/,upperdir=$base/upper,workdir=$base/work $root
            mount --rbind /dev $root/dev
            mount -t proc proc $root/proc
            mount -t sysfs -o ro sysfs $root/sys
            mount -t tmpfs tmpfs $root/run
            mount -t tmpfs tmpfs $root/tmp
            mkdir -p $root/mnt/debs
            mount --bind $debs $root/mnt/debs
            # No machine-id of the host's: the journal and units want one.
            rm -f $root/etc/machine-id
            # A container image's "start no services" policy: here
            # services are started, as on a locker.
            rm -f $root/usr/sbin/policy-rc.d
            exec chroot $root env -i container=locker-kiosk-test \
                /lib/systemd/systemd --system --unit=sysinit.target --log-target=journal
        "#;
        let holder = Command::new("unshare")
            .args([
                "--mount",
                "--pid",
                "--fork",
                "--mount-proc",
                "sh",
                "-c",
                script,
                "sh",
            ])
            .arg(dir.path())
            .arg(debs)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("unshare (util-linux) is missing");
        let children = format!("/proc/{0}/task/{0}/children", holder.id());
        let started = Instant::now();
        let systemd = loop {
            let listed = std::fs::read_to_string(&children).unwrap_or_default();
            if let Some(pid) = listed.split_whitespace().next() {
                let pid: u32 = pid.parse().unwrap();
                let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
                if exe.ends_with("lib/systemd/systemd") {
                    break pid;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "systemd did not start in the throwaway root (needs root)"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let root = Root {
            _dir: dir,
            holder,
            systemd,
        };
        root.until("systemd to be up", Duration::from_secs(60), || {
            let state = root.output(&["systemctl", "is-system-running"]);
            state.contains("running") || state.contains("degraded")
        });
        root
    }

    /// A command inside, as root, with its output; `(success, output)`.
    fn try_inside(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new("nsenter")
            .args([
                "-t",
                &self.systemd.to_string(),
                "-m",
                "-p",
                "-r",
                "-w",
                "--",
            ])
            .arg("env")
            .args(["-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"])
            .args(["DEBIAN_FRONTEND=noninteractive"])
            .args(args)
            .output()
            .unwrap();
        let text = printed(&out);
        (out.status.success(), text)
    }

    fn inside(&self, args: &[&str]) -> String {
        let (ok, text) = self.try_inside(args);
        assert!(ok, "{args:?} failed in the throwaway root:\n{text}");
        text
    }

    fn output(&self, args: &[&str]) -> String {
        self.try_inside(args).1
    }

    /// A command as the kiosk's user.
    fn as_kiosk(&self, args: &[&str]) -> String {
        let mut all = vec!["runuser", "-u", "locker-kiosk", "--", "locker-kiosk"];
        all.extend_from_slice(args);
        self.inside(&all)
    }

    /// A file inside, seen through systemd's root (the overlay is
    /// mounted only in the root's own namespace).
    fn path(&self, inside: &str) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root", self.systemd)).join(inside.trim_start_matches('/'))
    }

    fn show(&self, property: &str) -> String {
        self.output(&["systemctl", "show", "-P", property, UNIT])
            .trim()
            .to_string()
    }

    fn journal(&self) -> String {
        self.output(&["journalctl", "--no-pager", "-o", "cat", "-u", UNIT])
    }

    fn until(&self, what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
        let started = Instant::now();
        while !done() {
            if started.elapsed() > limit {
                panic!(
                    "waited {limit:?} for {what}\nstatus:\n{}\njournal:\n{}",
                    self.output(&["systemctl", "status", "--no-pager", UNIT]),
                    self.journal()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the kiosk has told systemd it is READY.
    fn until_running(&self) {
        self.until("the kiosk to be running", Duration::from_secs(90), || {
            self.show("ActiveState") == "active" && self.show("SubState") == "running"
        });
    }

    /// The kiosk's main process as this machine numbers it.
    fn kiosk_pid(&self) -> i32 {
        let inner: i32 = self.show("MainPID").parse().unwrap();
        assert!(inner > 0, "the kiosk has no main process");
        let namespace = std::fs::read_link(format!("/proc/{}/ns/pid", self.systemd)).unwrap();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            if std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok() != Some(namespace.clone()) {
                continue;
            }
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let nspid = status.lines().find_map(|l| l.strip_prefix("NSpid:"));
            if nspid.and_then(|ids| ids.split_whitespace().last()) == Some(&inner.to_string()) {
                return pid;
            }
        }
        panic!("no process {inner} in the throwaway root");
    }

    /// As a technician would ask (INSTALL.md): the kiosk's user finds
    /// the service's records without being told where they are.
    fn parcels(&self) -> String {
        self.as_kiosk(&["parcels", "list"])
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        // SIGKILL to the namespace's PID 1 ends every process in it; the
        // mounts go with the namespace.
        // SAFETY: kill(2) of a process this test started.
        unsafe { libc::kill(self.systemd as i32, libc::SIGKILL) };
        let _ = self.holder.wait();
    }
}

#[test]
fn the_package_holds_the_service_udev_rules_conffile_and_docs() {
    let out = tempfile::tempdir().unwrap();
    let deb = build_deb("0.1.0-1", out.path());
    let listing = run(Command::new("dpkg-deb").arg("--contents").arg(&deb));
    for file in [
        "./usr/bin/locker-kiosk",
        "./usr/lib/systemd/system/locker-kiosk.service",
        "./usr/lib/udev/rules.d/99-locker-kiosk.rules",
        "./etc/locker-kiosk/config.toml",
        "./usr/share/doc/locker-kiosk/INSTALL.md",
        "./usr/share/doc/locker-kiosk/README.md",
        "./usr/share/doc/locker-kiosk/copyright",
        "./usr/share/doc/locker-kiosk/examples/locker-kiosk.example.toml",
        "./usr/share/doc/locker-kiosk/examples/layouts/tower-12-8a.toml",
        "./usr/share/doc/locker-kiosk/examples/rotation.conf",
        "./usr/share/doc/locker-kiosk/examples/61-locker-kiosk-touch-rotation.rules",
    ] {
        assert!(
            listing.lines().any(|line| line.ends_with(file)),
            "{file} is not in the package:\n{listing}"
        );
    }
    let info = run(Command::new("dpkg-deb").arg("--info").arg(&deb));
    for needed in [
        "Package: locker-kiosk",
        "Version: 0.1.0-1",
        "adduser",
        "debconf",
    ] {
        assert!(info.contains(needed), "{needed} missing:\n{info}");
    }
    let control = out.path().join("control");
    run(Command::new("dpkg-deb")
        .arg("--control")
        .arg(&deb)
        .arg(&control));
    let conffiles = std::fs::read_to_string(control.join("conffiles")).unwrap();
    assert_eq!(conffiles.trim(), "/etc/locker-kiosk/config.toml");
    for script in ["postinst", "postrm", "prerm", "templates", "config"] {
        assert!(control.join(script).exists(), "no {script}");
    }
    let postinst = std::fs::read_to_string(control.join("postinst")).unwrap();
    assert!(postinst.contains("adduser --system"), "{postinst}");
    // cargo-deb's systemd snippets took #DEBHELPER#'s place.
    assert!(postinst.contains("deb-systemd-helper"), "{postinst}");
    assert!(!postinst.contains("#DEBHELPER#"), "{postinst}");

    // The unit as shipped: valid, and as hardened as the README says.
    let unit = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/locker-kiosk.service");
    let security = run(Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(&unit));
    let level: f32 = security
        .lines()
        .find_map(|l| l.split("locker-kiosk.service: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level:\n{security}"));
    assert!(level <= 2.0, "exposure {level}:\n{security}");
}

#[test]
fn installed_under_systemd_the_watchdog_restarts_a_frozen_screen_and_upgrades_keep_every_parcel() {
    let debs = tempfile::tempdir().unwrap();
    let old = build_deb("0.1.0-1", debs.path());
    let new = build_deb("0.1.1-1", debs.path());
    let (_x, display) = bare_x_server(800, 480);
    // The test's panel is an X server (this machine has no DRM device),
    // its watchdog short; everything else is the unit as installed.
    std::fs::write(
        debs.path().join("test.conf"),
        format!(
            "[Service]\nExecStart=\nExecStart=/usr/bin/locker-kiosk run --backend winit\n\
             Environment=DISPLAY={display}\nWatchdogSec=3\nRestartSec=1\nTimeoutAbortSec=5\nLimitCORE=0\n"
        ),
    )
    .unwrap();
    let root = Root::boot(debs.path());
    let name = |deb: &Path| format!("/mnt/debs/{}", deb.file_name().unwrap().to_string_lossy());
    root.inside(&["mkdir", "-p", "/etc/systemd/system/locker-kiosk.service.d"]);
    root.inside(&[
        "cp",
        "/mnt/debs/test.conf",
        "/etc/systemd/system/locker-kiosk.service.d/",
    ]);

    root.inside(&["dpkg", "--install", &name(&old)]);
    root.inside(&["systemd-analyze", "verify", UNIT]);
    // The user, its groups, its private records; the conffile is the
    // kiosk's to read only.
    let user = root.inside(&["id", "locker-kiosk"]);
    for group in ["dialout", "video", "input", "audio"] {
        assert!(user.contains(group), "{user}");
    }
    let modes = root.inside(&[
        "stat",
        "-c",
        "%a %U %G %n",
        "/var/lib/locker-kiosk",
        "/etc/locker-kiosk/config.toml",
    ]);
    assert!(
        modes.contains("700 locker-kiosk locker-kiosk /var/lib/locker-kiosk"),
        "{modes}"
    );
    assert!(
        modes.contains("640 root locker-kiosk /etc/locker-kiosk/config.toml"),
        "{modes}"
    );
    root.as_kiosk(&["doctor", "--demo", "--data-dir", "/tmp/doctor"]);

    // Started by the package: READY once the first frame is drawn. Not
    // configured yet, it shows the demo locker with its records apart.
    root.until_running();
    assert_eq!(root.show("StatusText"), "showing locker demo-1");
    assert!(root.path("var/lib/locker-kiosk/demo/locker.db").exists());
    assert!(!root.path("var/lib/locker-kiosk/locker.db").exists());

    // A courier's drop-off by the real flows, the kiosk stopped.
    root.inside(&["systemctl", "stop", UNIT]);
    root.as_kiosk(&[
        "--data-dir",
        "/var/lib/locker-kiosk/demo",
        "exercise",
        "drop-off",
    ]);
    root.inside(&["systemctl", "start", UNIT]);
    root.until_running();
    let parcels = root.parcels();
    assert!(parcels.lines().count() >= 5, "{parcels}");
    assert!(parcels.contains("Deniz"), "{parcels}");

    // Only the UI's thread stops: the watchdog kills the kiosk, systemd
    // starts it again, and the parcels are all there.
    let first = root.kiosk_pid();
    let frozen_at = Instant::now();
    let mut frozen = FrozenThread::freeze(first);
    assert!(
        frozen.wait_until_killed(Duration::from_secs(30)),
        "the frozen kiosk was not killed\n{}",
        root.journal()
    );
    let killed_after = frozen_at.elapsed();
    drop(frozen);
    root.until("a second start", Duration::from_secs(60), || {
        root.show("NRestarts") == "1"
    });
    root.until_running();
    assert_ne!(root.kiosk_pid(), first);
    assert!(
        root.journal().contains("Watchdog timeout"),
        "{}",
        root.journal()
    );
    assert!(killed_after >= Duration::from_secs(2), "{killed_after:?}");
    assert_eq!(root.parcels(), parcels);

    // An edit of the configuration survives the upgrade; the records too.
    root.inside(&[
        "sh",
        "-c",
        "echo '# edited on site' >> /etc/locker-kiosk/config.toml",
    ]);
    root.inside(&["dpkg", "--force-confold", "--install", &name(&new)]);
    let version = root.inside(&["dpkg-query", "-W", "-f", "${Version}", "locker-kiosk"]);
    assert_eq!(version, "0.1.1-1");
    root.until_running();
    assert_eq!(root.parcels(), parcels);
    let config = std::fs::read_to_string(root.path("etc/locker-kiosk/config.toml")).unwrap();
    assert!(config.contains("# edited on site"), "{config}");

    // Remove keeps records and configuration; purge removes the
    // configuration, and the records only when asked.
    root.inside(&["dpkg", "--remove", "locker-kiosk"]);
    assert_eq!(root.show("ActiveState"), "inactive");
    assert!(root.path("etc/locker-kiosk/config.toml").exists());
    root.inside(&["dpkg", "--purge", "locker-kiosk"]);
    assert!(!root.path("etc/locker-kiosk/config.toml").exists());
    assert!(root.path("var/lib/locker-kiosk/demo/locker.db").exists());
    root.inside(&["dpkg", "--install", &name(&new)]);
    root.until_running();
    assert_eq!(
        root.parcels(),
        parcels,
        "a reinstall finds the records kept"
    );
    root.inside(&[
        "sh",
        "-c",
        "echo 'locker-kiosk locker-kiosk/purge-records boolean true' | debconf-set-selections",
    ]);
    root.inside(&["dpkg", "--purge", "locker-kiosk"]);
    assert!(!root.path("var/lib/locker-kiosk").exists());
}
