#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's open-file limit, which bounds how many connections a node can hold (each
/// HTTP and Raft connection is a file descriptor besides the log's own files).
public enum OpenFileLimit {
    /// The most the soft limit is raised to, even when the hard limit is higher (or unlimited).
    public static let raisedMax = 1 << 20

    /// Raises the soft `RLIMIT_NOFILE` to the hard limit (at most `raisedMax`), as Go programs
    /// do at start since Go 1.19: the soft default of many systems (1,024) would otherwise
    /// lower the HTTP connection limit (`--http-max-connections`, 4,096 by default) to 512.
    /// Returns the soft limit in force afterwards; nil when it cannot be read.
    @discardableResult
    public static func raiseToHard() -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        let wanted = min(limit.rlim_max, rlim_t(raisedMax))
        if limit.rlim_cur < wanted {
            var raised = limit
            raised.rlim_cur = wanted
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(min(limit.rlim_cur, rlim_t(Int.max / 2)))
    }
}
