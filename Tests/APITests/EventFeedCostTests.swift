@testable import API
import Engine
import Foundation
import Glibc
import HummingbirdTesting
import XCTest

/// An open event stream delivers every change event while transitions are applied as fast as
/// the engine takes them, and what it adds to the server's work per transition is printed
/// (measured in one process: the same transitions applied with no stream open, then with one
/// stream read over a loopback socket). The figure is for docs/performance.md ("Dashboard");
/// it is not asserted — CPU time depends on the machine, and timing belongs in benchmarks.
///
/// The producer moves in chunks smaller than the feed's ring and waits for the stream to show
/// each chunk's last event, as a dashboard that keeps up would: on a loaded two-core machine
/// an unpaced in-process producer can outrun the stream's task by the whole ring, and the
/// server then (rightly) drops the stream — that behaviour has its own test in
/// `EventRouteTests`.
final class EventFeedCostTests: XCTestCase {
    func testAnOpenStreamDeliversEveryEventOfALongBurst() async throws {
        let fixture = Fixture()
        try await fixture.live { client in
            try await client.register("cookbook", Definitions.cookbook)
            let instances = (0..<64).map { "cost-\($0)" }
            for id in instances { try await client.start("cookbook", id: id) }
            let transitions = 20_000
            let ring = ["second", "third", "first"]
            var moves = [String: Int]()

            /// CPU seconds (user + system, every thread) spent applying `transitions` moves;
            /// with `reader`, every chunk waits until the stream has delivered its last event.
            func applyAll(round: Int, reader: RawStreamReader? = nil) async throws {
                let chunk = 1_000
                for n in 0..<transitions {
                    let id = instances[n % instances.count]
                    let to = ring[moves[id, default: 0] % 3]
                    moves[id, default: 0] += 1
                    let command = Command.transition(TransitionRequest(instance: id, name: nil, to: to, expect: nil, dataPatch: nil,
                                                                       requestID: "c\(round)-\(n)", actor: nil))
                    guard case .transitioned = try await fixture.consensus.propose(command).outcome else {
                        return XCTFail("transition \(n) of round \(round) was not applied")
                    }
                    if let reader, (n + 1) % chunk == 0 {
                        try await reader.waitFor(event: fixture.engine.appliedIndex, within: .seconds(30))
                    }
                }
            }

            var before = Self.cpuSeconds()
            try await applyAll(round: 0)
            let without = Self.cpuSeconds() - before

            // The reader is a plain blocking socket on its own thread: it counts bytes and
            // keeps the tail, so its own cost is small next to the server's.
            let reader = try RawStreamReader(port: try XCTUnwrap(client.port))
            try await Task.sleep(for: .milliseconds(200))
            let last = fixture.engine.appliedIndex + UInt64(transitions)
            before = Self.cpuSeconds()
            try await applyAll(round: 1, reader: reader)
            try await reader.waitFor(event: last, within: .seconds(30))
            let with = Self.cpuSeconds() - before
            reader.close()
            XCTAssertTrue(reader.tail().contains("id: \(last)\n"), "the stream delivered every event: \(reader.tail().suffix(300))")
            XCTAssertGreaterThan(reader.bytes, transitions * 200, "one change event per transition")

            let perTransitionMicros = (with - without) / Double(transitions) * 1e6
            print(String(format: "event feed cost: %.1f µs CPU per transition with one stream open (%.1f µs without, %.1f µs with; "
                         + "%d bytes streamed); at 1,000 transitions/s that is %.2f%% of a core (debug build)", perTransitionMicros,
                         without / Double(transitions) * 1e6, with / Double(transitions) * 1e6, reader.bytes,
                         perTransitionMicros * 1_000 / 1e6 * 100))
        }
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}

/// `GET /v1/events` read with a blocking socket on a thread of its own: counts the bytes and
/// keeps the last few kilobytes.
final class RawStreamReader: @unchecked Sendable {
    // Safety: `state` is guarded by `lock`; `descriptor` is set once before the thread starts.
    private let lock = NSLock()
    private var state = (bytes: 0, tail: [UInt8]())
    private let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        let request = Array("GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, 0) }
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
                if count <= 0 { return }
                lock.lock()
                state.bytes += count
                state.tail = Array((state.tail + buffer[0..<count]).suffix(4_096))
                lock.unlock()
            }
        }
        thread.start()
    }

    var bytes: Int { lock.lock(); defer { lock.unlock() }; return state.bytes }

    func tail() -> String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: state.tail, as: UTF8.self)
    }

    struct StreamFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Waits until the stream's tail holds the event with this id (events are numbered by
    /// log index); throws at once when the server dropped the stream, or when the time is up.
    func waitFor(event id: UInt64, within limit: Duration) async throws {
        let deadline = ContinuousClock.now + limit
        while true {
            let text = tail()
            if text.contains("id: \(id)\n") { return }
            if text.contains("event: dropped") {
                throw StreamFailure(description: "the server dropped the stream before event \(id): \(text.suffix(300))")
            }
            if ContinuousClock.now >= deadline {
                throw StreamFailure(description: "event \(id) did not arrive within \(limit): \(text.suffix(300))")
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    func close() { shutdown(descriptor, Int32(SHUT_RDWR)) }
}
