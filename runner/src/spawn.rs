//! The one place that starts child processes, and runs them to the end.
//!
//! Every child (cargo, a test binary, a setup command) is built by
//! [`command`]: explicit working directory and environment, stdin from
//! `/dev/null`, stdout and stderr into one pipe (so the output keeps the
//! order the child wrote it in, and a full pipe can never deadlock it), and
//! its own process group, so that a signal for it reaches everything it
//! started and a terminal's Ctrl-C reaches only paraclone, which decides.

use std::ffi::OsString;
use std::io::Read as _;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio_util::sync::CancellationToken;

/// What to start.
#[derive(Clone, Debug)]
pub(crate) struct ChildSpec {
    /// The program, found on `PATH` if it has no slash.
    pub(crate) program: OsString,
    /// Its arguments.
    pub(crate) args: Vec<OsString>,
    /// Its working directory.
    pub(crate) cwd: PathBuf,
    /// Variables set on top of paraclone's own environment.
    pub(crate) env: Vec<(String, String)>,
    /// Run it as this user and group (uid, gid): a server that refuses to
    /// run as root.
    pub(crate) run_as: Option<(u32, u32)>,
    /// A server paraclone stops itself: its tag is not one the end of the
    /// run phase kills ([`kill_leftovers`]).
    pub(crate) server: bool,
}

impl ChildSpec {
    pub(crate) fn new(program: impl Into<OsString>, cwd: impl Into<PathBuf>) -> ChildSpec {
        ChildSpec {
            program: program.into(),
            args: Vec::new(),
            cwd: cwd.into(),
            env: Vec::new(),
            run_as: None,
            server: false,
        }
    }

    /// A command from the config: a string runs with `sh -c`, a list runs
    /// its first word with the rest as arguments.
    pub(crate) fn command_line(
        command: &crate::config::CommandLine,
        cwd: &std::path::Path,
    ) -> ChildSpec {
        match command {
            crate::config::CommandLine::Shell(script) => {
                ChildSpec::new("sh", cwd).arg("-c").arg(script)
            }
            crate::config::CommandLine::Argv(argv) => {
                ChildSpec::new(&argv[0], cwd).args(&argv[1..])
            }
        }
    }

    pub(crate) fn arg(mut self, arg: impl Into<OsString>) -> ChildSpec {
        self.args.push(arg.into());
        self
    }

    pub(crate) fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(
        mut self,
        args: I,
    ) -> ChildSpec {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub(crate) fn envs(mut self, env: impl IntoIterator<Item = (String, String)>) -> ChildSpec {
        self.env.extend(env);
        self
    }

    /// Runs it as `uid`/`gid` (`None`: as paraclone).
    pub(crate) fn run_as(mut self, user: Option<(u32, u32)>) -> ChildSpec {
        self.run_as = user;
        self
    }

    /// Marks it as a server, stopped by paraclone's own teardown rather
    /// than swept up with what tests left running.
    pub(crate) fn server(mut self) -> ChildSpec {
        self.server = true;
        self
    }

    /// A shell-like rendering for messages (not for execution).
    pub(crate) fn display(&self) -> String {
        std::iter::once(&self.program)
            .chain(&self.args)
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// How a child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    /// It exited by itself with this code.
    Code(i32),
    /// A signal it did not expect ended it.
    Signal(i32),
    /// It ran longer than its time limit and was killed.
    TimedOut,
    /// The run was interrupted and the child was stopped.
    Interrupted,
}

/// A child's end: how, its output (stdout and stderr merged), how long.
#[derive(Debug)]
pub(crate) struct Finished {
    pub(crate) exit: Exit,
    pub(crate) output: Vec<u8>,
    pub(crate) duration: Duration,
    /// Set when something it started outlived it, holding its output open
    /// after its group was killed (a process that left the group, e.g. with
    /// `setsid`): how many such processes were found and killed.
    pub(crate) leaked: Option<usize>,
}

/// The variable every child gets, with a value of its own, so that what
/// it starts can be found even after it left the child's process group.
const TAG_VAR: &str = "PARACLONE_PROCESS_TAG";

/// How long a child's output may stay open after its group was killed
/// before what holds it is called a leak (nextest waits 100 ms).
const LEAK_GRACE: Duration = Duration::from_millis(200);

/// Kills every process a child of this paraclone left running (found by
/// their tag); returns how many. For the end of a run.
pub(crate) fn kill_leftovers() -> usize {
    crate::os::kill_tagged(TAG_VAR, &format!("{}-", std::process::id()), true)
}

/// Limits on one child's run.
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    /// Kill the child after this long.
    pub(crate) timeout: Option<Duration>,
    /// Between the polite signal and the kill.
    pub(crate) grace: Duration,
    /// Cancelled on the first Ctrl-C/SIGTERM: interrupt, wait `grace`, kill.
    pub(crate) soft_stop: CancellationToken,
    /// Cancelled on the second: kill now.
    pub(crate) hard_stop: CancellationToken,
}

/// Builds the command for `spec`. The only function that makes a
/// `Command`; see the module doc for what every child gets.
fn command(spec: &ChildSpec) -> std::io::Result<(tokio::process::Command, std::io::PipeReader)> {
    let (reader, writer) = std::io::pipe()?;
    let mut cmd = tokio::process::Command::new(&spec.program);
    cmd.args(&spec.args)
        .current_dir(&spec.cwd)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(writer.try_clone()?)
        .stderr(writer)
        .process_group(0)
        .kill_on_drop(true);
    if let Some((uid, gid)) = spec.run_as {
        // As root, std also drops the supplementary groups.
        cmd.uid(uid).gid(gid);
    }
    Ok((cmd, reader))
}

/// How much of a child's output is kept.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Capture {
    /// All of it, returned when the child ends (a test, a build).
    Whole,
    /// The last this many bytes, readable while it runs (a long-lived
    /// worker, whose output outside its tests is only worth showing when it
    /// dies).
    Tail(usize),
}

/// A started child: its process group, its output being drained.
#[derive(Debug)]
pub(crate) struct Running {
    child: tokio::process::Child,
    group: GroupGuard,
    output: Drain,
    started: Instant,
    tag: String,
}

#[derive(Debug)]
enum Drain {
    Whole(
        std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
        tokio::task::JoinHandle<()>,
    ),
    Tail(std::sync::Arc<std::sync::Mutex<Tail>>),
}

/// The last bytes a child printed, and how many it printed in all.
#[derive(Debug, Default)]
struct Tail {
    kept: Vec<u8>,
    total: u64,
}

/// Starts `spec`. An `Err` means it could not be started at all.
pub(crate) fn start(spec: &ChildSpec, capture: Capture) -> std::io::Result<Running> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let tag = format!(
        "{}{}-{}",
        if spec.server { "server-" } else { "" },
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let (mut cmd, mut reader) = command(spec)?;
    cmd.env(TAG_VAR, &tag);
    let child = cmd.spawn()?;
    // The Command holds the pipe's write ends: drop them, or reading would
    // never see the end of the output.
    drop(cmd);
    let group = GroupGuard(child.id().map(|id| Pid::from_raw(id as i32)));
    let output = match capture {
        Capture::Whole => {
            let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let shared = std::sync::Arc::clone(&buf);
            // A read error only truncates what is shown; the exit status
            // still decides the outcome.
            let task = tokio::task::spawn_blocking(move || {
                let mut chunk = vec![0; 65536];
                while let Ok(n) = reader.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    shared
                        .lock()
                        .expect("not poisoned")
                        .extend_from_slice(&chunk[..n]);
                }
            });
            Drain::Whole(buf, task)
        }
        Capture::Tail(keep) => {
            let tail = std::sync::Arc::new(std::sync::Mutex::new(Tail::default()));
            let shared = std::sync::Arc::clone(&tail);
            tokio::task::spawn_blocking(move || {
                let mut chunk = vec![0; 8192];
                while let Ok(n) = reader.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    let mut tail = shared.lock().expect("not poisoned");
                    tail.kept.extend_from_slice(&chunk[..n]);
                    tail.total += n as u64;
                    if tail.kept.len() > keep {
                        let cut = tail.kept.len() - keep;
                        tail.kept.drain(..cut);
                    }
                }
            });
            Drain::Tail(tail)
        }
    };
    Ok(Running {
        child,
        group,
        output,
        started: Instant::now(),
        tag,
    })
}

impl Running {
    /// Its process id (also its process group's), while it has not been
    /// waited for.
    pub(crate) fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// Waits for the child to exit (cancel-safe).
    pub(crate) async fn wait(&mut self) -> std::io::Result<Exit> {
        Ok(Exit::from(self.child.wait().await?))
    }

    /// Whether the child has exited already.
    pub(crate) fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// Stops the child's group: `signal`, the grace period (cut short by a
    /// hard stop), then a kill; waits for the child.
    pub(crate) async fn stop(&mut self, limits: &Limits, polite: Polite) {
        let signal = match polite {
            Polite::Interrupt => Signal::SIGINT,
            Polite::Terminate => Signal::SIGTERM,
        };
        stop(&mut self.child, &self.group, signal, limits).await;
    }

    /// Kills the child's group now and waits for the child.
    pub(crate) async fn kill(&mut self) {
        self.group.kill();
        let _ = self.child.wait().await;
    }

    /// What the child printed lately (the tail kept by [`Capture::Tail`]).
    pub(crate) fn tail(&self) -> Vec<u8> {
        self.tail_since(0)
    }

    /// How many bytes the child has printed so far (a mark for
    /// [`Running::tail_since`]).
    pub(crate) fn printed(&self) -> u64 {
        match &self.output {
            Drain::Tail(tail) => tail.lock().expect("not poisoned").total,
            Drain::Whole(..) => 0,
        }
    }

    /// What of the kept tail the child printed after `mark`.
    pub(crate) fn tail_since(&self, mark: u64) -> Vec<u8> {
        match &self.output {
            Drain::Tail(tail) => {
                let tail = tail.lock().expect("not poisoned");
                let start = tail.total - tail.kept.len() as u64;
                let skip = mark.saturating_sub(start).min(tail.kept.len() as u64) as usize;
                tail.kept[skip..].to_vec()
            }
            Drain::Whole(..) => Vec::new(),
        }
    }

    /// Kills what is left of the child's group (the pipe closes with it)
    /// and returns its end.
    async fn finish(self, exit: Exit) -> Finished {
        // Whatever the child left running in its group goes with it; this
        // also closes the output pipe for good.
        self.group.kill();
        let duration = self.started.elapsed();
        let mut leaked = None;
        let output = match self.output {
            Drain::Whole(buf, mut task) => {
                // The pipe closes when the last process holding it is gone:
                // one that outlived the group's kill left the group.
                if tokio::time::timeout(LEAK_GRACE, &mut task).await.is_err() {
                    leaked = Some(crate::os::kill_tagged(TAG_VAR, &self.tag, false));
                    let _ = tokio::time::timeout(Duration::from_secs(1), task).await;
                }
                std::mem::take(&mut *buf.lock().expect("not poisoned"))
            }
            Drain::Tail(tail) => std::mem::take(&mut tail.lock().expect("not poisoned").kept),
        };
        Finished {
            exit,
            output,
            duration,
            leaked,
        }
    }
}

/// The polite signal that starts a stop.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Polite {
    /// As Ctrl-C.
    Interrupt,
    /// As a time-out (SIGTERM).
    Terminate,
}

/// Starts `spec` and waits for it within `limits`. An `Err` means it could
/// not be started at all.
pub(crate) async fn run(
    spec: &ChildSpec,
    limits: &Limits,
    on_slow: Option<(Duration, &mut dyn FnMut())>,
) -> std::io::Result<Finished> {
    run_watched(spec, limits, on_slow, None).await
}

/// Every so often, what a child printed since the last time.
pub(crate) type Watch<'a> = (Duration, &'a mut dyn FnMut(&[u8]));

/// As [`run`], and every `watch.0` calls `watch.1` with what the child
/// printed since the last call (for progress on long work, a build).
pub(crate) async fn run_watched(
    spec: &ChildSpec,
    limits: &Limits,
    on_slow: Option<(Duration, &mut dyn FnMut())>,
    mut watch: Option<Watch<'_>>,
) -> std::io::Result<Finished> {
    let mut running = start(spec, Capture::Whole)?;
    let mut seen = 0;
    let mut ticker = watch
        .as_ref()
        .map(|(every, _)| tokio::time::interval(*every));
    let deadline = limits.timeout.map(|t| tokio::time::Instant::now() + t);
    let (slow_after, mut on_slow) = match on_slow {
        Some((after, f)) => (Some(tokio::time::Instant::now() + after), Some(f)),
        None => (None, None),
    };

    let mut slow_pending = slow_after.is_some();
    let exit = loop {
        tokio::select! {
            status = running.wait() => break status?,
            _ = async { ticker.as_mut().expect("checked").tick().await }, if ticker.is_some() => {
                if let (Some((_, f)), Drain::Whole(buf, _)) = (watch.as_mut(), &running.output) {
                    let new = buf.lock().expect("not poisoned")[seen..].to_vec();
                    seen += new.len();
                    f(&new);
                }
            }
            () = sleep_until(slow_after), if slow_pending => {
                slow_pending = false;
                if let Some(f) = on_slow.as_mut() { f() }
            }
            () = sleep_until(deadline) => {
                running.stop(limits, Polite::Terminate).await;
                break Exit::TimedOut;
            }
            () = limits.soft_stop.cancelled() => {
                running.stop(limits, Polite::Interrupt).await;
                break Exit::Interrupted;
            }
        }
    };
    Ok(running.finish(exit).await)
}

/// Sleeps until `at`, or for ever without one.
pub(crate) async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Sends `signal` to the child's group, waits the grace period (cut short
/// by a hard stop), then kills the group.
async fn stop(
    child: &mut tokio::process::Child,
    group: &GroupGuard,
    signal: Signal,
    limits: &Limits,
) {
    group.signal(signal);
    tokio::select! {
        _ = child.wait() => {}
        () = tokio::time::sleep(limits.grace) => {}
        () = limits.hard_stop.cancelled() => {}
    }
    group.kill();
    let _ = child.wait().await;
}

/// A child's process group, killed when dropped (a panic or a cancelled
/// future must not leave test processes behind).
#[derive(Debug)]
struct GroupGuard(Option<Pid>);

impl GroupGuard {
    fn signal(&self, signal: Signal) {
        if let Some(pid) = self.0 {
            // ESRCH (the group is gone) is the normal case after an exit.
            let _ = killpg(pid, signal);
        }
    }

    fn kill(&self) {
        self.signal(Signal::SIGKILL);
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

impl From<std::process::ExitStatus> for Exit {
    fn from(status: std::process::ExitStatus) -> Exit {
        use std::os::unix::process::ExitStatusExt as _;
        match (status.code(), status.signal()) {
            (Some(code), _) => Exit::Code(code),
            (None, Some(signal)) => Exit::Signal(signal),
            (None, None) => Exit::Code(-1),
        }
    }
}

/// The name of a signal number, for reports (`SIGSEGV`).
pub(crate) fn signal_name(signal: i32) -> String {
    Signal::try_from(signal).map_or_else(|_| format!("signal {signal}"), |s| s.as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            timeout: None,
            grace: Duration::from_millis(500),
            soft_stop: CancellationToken::new(),
            hard_stop: CancellationToken::new(),
        }
    }

    fn sh(script: &str) -> ChildSpec {
        ChildSpec::new("sh", std::env::temp_dir())
            .arg("-c")
            .arg(script)
    }

    #[tokio::test]
    async fn output_is_merged_in_order_and_exit_code_kept() {
        let done = run(
            &sh("echo one; echo two >&2; echo three; exit 3"),
            &limits(),
            None,
        )
        .await
        .unwrap();
        assert_eq!(done.exit, Exit::Code(3));
        assert_eq!(String::from_utf8(done.output).unwrap(), "one\ntwo\nthree\n");
    }

    #[tokio::test]
    async fn large_output_does_not_deadlock() {
        let done = run(
            &sh("head -c 3000000 /dev/zero; echo end >&2"),
            &limits(),
            None,
        )
        .await
        .unwrap();
        assert_eq!(done.exit, Exit::Code(0));
        assert_eq!(done.output.len(), 3_000_004);
    }

    #[tokio::test]
    async fn env_and_cwd_are_given_and_stdin_is_empty() {
        let spec = ChildSpec::new("sh", "/")
            .arg("-c")
            .arg("pwd; echo $PC_X; cat")
            .envs([("PC_X".to_owned(), "y".to_owned())]);
        let done = run(&spec, &limits(), None).await.unwrap();
        assert_eq!(String::from_utf8(done.output).unwrap(), "/\ny\n");
    }

    #[tokio::test]
    async fn signals_are_reported() {
        let done = run(&sh("kill -SEGV $$"), &limits(), None).await.unwrap();
        assert_eq!(done.exit, Exit::Signal(11));
        assert_eq!(signal_name(11), "SIGSEGV");
    }

    #[tokio::test]
    async fn timeout_kills_the_whole_group() {
        let mut l = limits();
        l.timeout = Some(Duration::from_millis(200));
        let marker = tempfile::NamedTempFile::new().unwrap();
        let script = format!(
            "trap '' TERM; (sleep 2; echo leaked > {}) & sleep 30",
            marker.path().display()
        );
        let started = Instant::now();
        let done = run(&sh(&script), &l, None).await.unwrap();
        assert_eq!(done.exit, Exit::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(
            std::fs::read_to_string(marker.path()).unwrap(),
            "",
            "a grandchild survived the kill"
        );
    }

    #[tokio::test]
    async fn soft_stop_interrupts_and_slow_is_reported() {
        let l = limits();
        let stop = l.soft_stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            stop.cancel();
        });
        let mut slow = 0;
        let mut on_slow = || slow += 1;
        let done = run(
            &sh("sleep 30"),
            &l,
            Some((Duration::from_millis(100), &mut on_slow)),
        )
        .await
        .unwrap();
        assert_eq!(done.exit, Exit::Interrupted);
        assert_eq!(slow, 1);
    }

    #[tokio::test]
    async fn missing_program_is_an_error() {
        let err = run(&ChildSpec::new("/nonexistent/prog", "/"), &limits(), None)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    }
}
