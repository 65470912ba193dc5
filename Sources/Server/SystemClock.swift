import Engine
import Foundation

/// The real `WallClock`: the system's time of day, and `Task.sleep` to wait for one. The only
/// place the server reads the wall clock.
public struct SystemClock: WallClock {
    public init() {}

    public var nowMillis: Int64 { Int64((Date().timeIntervalSince1970 * 1_000).rounded(.down)) }

    public func sleep(untilMillis deadline: Int64) async throws {
        // Sleep in bounded steps and re-read the time of day, so a clock that is stepped
        // (NTP) while we wait is noticed within a second.
        while true {
            let remaining = deadline - nowMillis
            if remaining <= 0 { return }
            try await Task.sleep(for: .milliseconds(min(remaining, 1_000)))
        }
    }
}
