import Cluster
import Foundation
import Raft
import RaftTransport
import Synchronization

/// A key-value state machine: commands are "key=value"; the result is the previous value.
final class KeyValueMachine: ReplicatedStateMachine {
    private let state = Mutex<[String: String]>([:])
    private let appliedLog = Mutex<[String]>([])

    func apply(index: LogIndex, term: Term, command: [UInt8]) -> any Sendable {
        let text = String(decoding: command, as: UTF8.self)
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        appliedLog.withLock { $0.append(text) }
        guard parts.count == 2 else { return Array("bad".utf8) }
        let previous = state.withLock { dict -> String? in
            let old = dict[parts[0]]
            dict[parts[0]] = parts[1]
            return old
        }
        return Array((previous ?? "").utf8)
    }

    func snapshot() -> [UInt8] {
        let dict = state.withLock { $0 }
        return Array(dict.keys.sorted().map { "\($0)=\(dict[$0]!)" }.joined(separator: "\n").utf8)
    }

    let restores = Mutex(0)

    func restore(from snapshot: [UInt8]) throws {
        restores.withLock { $0 += 1 }
        var dict: [String: String] = [:]
        for line in String(decoding: snapshot, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { dict[parts[0]] = parts[1] }
        }
        state.withLock { $0 = dict }
    }

    func value(_ key: String) -> String? { state.withLock { $0[key] } }
    var contents: [String: String] { state.withLock { $0 } }
}

func waitUntil(timeout: Double = 10, _ condition: () -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}
