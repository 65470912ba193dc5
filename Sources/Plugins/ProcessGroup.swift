#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process group of one run. The plugin starts a new session (`setsid`), so its pid is
/// also its process group id and every process it forks, and their children, share it
/// unless they start a session of their own.
///
/// Signals go to the group only while the plugin's own process is unreaped (running or a
/// zombie): until swift-subprocess reaps it after the run's body returns, its pid — and so
/// the group id — cannot be reused by an unrelated process.
struct ProcessGroup: Sendable {
    /// The plugin's pid, which is the group's id.
    let id: pid_t

    /// Sends `signal` to every process in the group; an empty group is not an error.
    func send(_ signal: Int32) {
        _ = killpg(id, signal)
    }

    /// True once the plugin's own process has exited (it may not be reaped yet). Does not
    /// reap it (`WNOWAIT`): swift-subprocess does that.
    var leaderHasExited: Bool {
        var info = siginfo_t()
        let result = waitid(P_PID, id_t(id), &info, WEXITED | WNOHANG | WNOWAIT)
        // With WNOHANG and nothing to report, Linux returns 0 and leaves si_signo 0.
        return result == 0 ? info.si_signo == SIGCHLD : errno == ECHILD
    }

    /// Returns once the plugin's own process has exited. Used only after its stdout and
    /// stderr have ended, which in practice is the moment it exits, so the first checks,
    /// 1 ms apart, nearly always answer; a plugin that closed both and went on working is
    /// checked at most every 50 ms.
    func waitForLeaderExit() async {
        var pauseMillis = 1
        while !leaderHasExited {
            try? await Task.sleep(for: .milliseconds(pauseMillis))
            pauseMillis = min(pauseMillis * 2, 50)
        }
    }
}
