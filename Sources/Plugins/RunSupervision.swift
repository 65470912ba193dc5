import Synchronization

/// Why the runner stopped a plugin, decided once: the first of timeout and cancellation
/// wins, and neither counts once the plugin has exited by itself.
final class RunSupervision: Sendable {
    enum Stop: Sendable {
        case timedOut
        case cancelled
    }

    private struct State {
        var exited = false
        var stop: Stop?
    }

    private let state = Mutex(State())

    /// Records `reason` unless the plugin already exited or was already being stopped;
    /// true when this call decided the stop (and so should send the signals, if any).
    func requestStop(_ reason: Stop) -> Bool {
        state.withLock { state in
            guard !state.exited, state.stop == nil else { return false }
            state.stop = reason
            return true
        }
    }

    /// Records that the plugin's own process has exited.
    func markExited() {
        state.withLock { $0.exited = true }
    }

    /// The stop decided, if any.
    var stop: Stop? {
        state.withLock { $0.stop }
    }
}
