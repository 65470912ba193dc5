import Foundation
import Raft
import RaftTransport
import Synchronization

/// `orchestrator-bench transport [--messages N] [--chunks N]`: two TCP transports on
/// loopback; node 1 streams to node 2 with a bounded window (so no message is dropped) and
/// the clock stops when the last one arrives. Also the codec alone, for CPU per message.
enum TransportBenchmark {
    static func run(_ arguments: [String]) throws {
        var messages = 400_000, chunks = 512
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst().flatMap({ Int($0) }), value > 0 else { throw BenchError("\(flag) needs a positive number") }
            switch flag {
            case "--messages": messages = value
            case "--chunks": chunks = value
            default: throw BenchError("unknown option \(flag) (options: --messages N, --chunks N)")
            }
        }
        print("orchestrator-bench transport --messages \(messages) --chunks \(chunks)")
        print("cores: \(ProcessInfo.processInfo.activeProcessorCount)")
        codec(messages: messages)
        try blocking { [messages, chunks] in
            try await roundTrips(count: min(messages, 20_000))
            try await loopback(name: "append, 1 entry of 128 B", count: messages, window: 2048, batch: 64) { index in
                Message(from: 1, to: 2, term: 1, payload: .append(Message.Append(
                    prevIndex: UInt64(index), prevTerm: 1, entries: [Entry(term: 1, index: UInt64(index) + 1, data: payload128)], commit: UInt64(index))))
            }
            try await loopback(name: "append, 64 entries of 128 B", count: messages / 64, window: 64, batch: 8) { index in
                Message(from: 1, to: 2, term: 1, payload: .append(Message.Append(
                    prevIndex: UInt64(index * 64), prevTerm: 1,
                    entries: (0..<64).map { Entry(term: 1, index: UInt64(index * 64 + $0 + 1), data: payload128) }, commit: 0)))
            }
            try await loopback(name: "snapshot chunk of 1 MiB", count: chunks, window: 8, batch: 1) { index in
                Message(from: 1, to: 2, term: 1, payload: .snapshotChunk(Message.SnapshotChunk(
                    metadata: SnapshotMetadata(index: 1, term: 1, configuration: Configuration(voters: [1, 2, 3])),
                    totalBytes: chunks << 20, offset: index << 20, data: chunk1MiB)))
            }
        }
    }

    static let payload128 = [UInt8](repeating: 0xAB, count: 128)
    static let chunk1MiB = [UInt8](repeating: 0xCD, count: 1 << 20)

    static func codec(messages: Int) {
        let message = Message(from: 1, to: 2, term: 1, payload: .append(Message.Append(
            prevIndex: 7, prevTerm: 1, entries: [Entry(term: 1, index: 8, data: payload128)], commit: 7)))
        let start = ContinuousClock.now
        var decoder = FrameDecoder()
        var decoded = 0
        for _ in 0..<messages {
            decoder.append(WireCodec.encode(message))
            while (try? decoder.next()) != nil { decoded += 1 }
        }
        let seconds = (ContinuousClock.now - start).seconds
        precondition(decoded == messages)
        print(String(format: "codec only, append of 128 B: %.0f encode+decode/s (%.2f µs each)", Double(messages) / seconds, seconds / Double(messages) * 1e6))
    }

    static func loopback(name: String, count: Int, window: Int, batch: Int, make: (Int) -> Message) async throws {
        // Connection logs go to stderr (swift-log's default handler).
        let receiver = TCPTransport(nodeID: 2, clusterID: "bench", listen: PeerAddress(host: "127.0.0.1", port: 0), peers: [:])
        let sender = TCPTransport(nodeID: 1, clusterID: "bench", listen: PeerAddress(host: "127.0.0.1", port: 0), peers: [:])
        try await receiver.start()
        try await sender.start()
        sender.updatePeers([2: receiver.listenAddress!])
        receiver.updatePeers([1: sender.listenAddress!])
        let received = Counter()
        let consumer = Task {
            for await _ in receiver.incoming { received.value.add(1, ordering: .relaxed) }
        }
        // Warm up: connect and move a few messages before the clock starts.
        sender.send([make(0)])
        while received.value.load(ordering: .relaxed) < 1 { try await Task.sleep(for: .milliseconds(1)) }
        let messages = (0..<min(count, 4096)).map(make)  // reused, so building them is not measured
        let start = ContinuousClock.now
        let cpuStart = cpuSeconds()
        var sent = 0
        while sent < count {
            if sent - (received.value.load(ordering: .relaxed) - 1) >= window {
                try await Task.sleep(for: .microseconds(100))
                continue
            }
            let n = min(batch, count - sent)
            sender.send((0..<n).map { messages[(sent + $0) % messages.count] })
            sent += n
        }
        while received.value.load(ordering: .relaxed) < count + 1 { try await Task.sleep(for: .microseconds(200)) }
        let seconds = (ContinuousClock.now - start).seconds
        let cpu = cpuSeconds() - cpuStart
        let stats = sender.stats
        let bytes = Double(stats.bytesSent) * Double(count) / Double(count + 1)
        print(String(format: "loopback, %@: %d messages in %.2f s = %.0f messages/s, %.1f MB/s (frames), %.2f µs CPU/message (both ends), dropped %d",
                     name, count, seconds, Double(count) / seconds, bytes / seconds / 1e6, cpu / Double(count) * 1e6,
                     stats.sendDropped + receiver.stats.receiveDropped))
        await sender.shutdown()
        await receiver.shutdown()
        _ = await consumer.value
    }

    /// Heartbeat → heartbeatResponse ping-pong, one at a time: the loopback round-trip latency
    /// through both transports (encode, queue, event loop, socket, decode, `incoming`, and back).
    static func roundTrips(count: Int) async throws {
        let one = TCPTransport(nodeID: 1, clusterID: "bench", listen: PeerAddress(host: "127.0.0.1", port: 0), peers: [:])
        let two = TCPTransport(nodeID: 2, clusterID: "bench", listen: PeerAddress(host: "127.0.0.1", port: 0), peers: [:])
        try await one.start()
        try await two.start()
        one.updatePeers([2: two.listenAddress!])
        two.updatePeers([1: one.listenAddress!])
        let echo = Task {
            for await message in two.incoming {
                guard case .heartbeat(let beat) = message.payload else { continue }
                two.send([Message(from: 2, to: 1, term: 1, payload: .heartbeatResponse(Message.HeartbeatResponse(readRound: beat.readRound)))])
            }
        }
        var replies = one.incoming.makeAsyncIterator()
        var nanos: [Int64] = []
        nanos.reserveCapacity(count)
        for round in 0..<(count + 100) {  // the first 100 warm up and are not counted
            let start = ContinuousClock.now
            one.send([Message(from: 1, to: 2, term: 1, payload: .heartbeat(Message.Heartbeat(commit: 0, readRound: UInt64(round))))])
            guard await replies.next() != nil else { throw BenchError("reply stream ended") }
            let elapsed = ContinuousClock.now - start
            if round >= 100 { nanos.append(elapsed.components.attoseconds / 1_000_000_000 + elapsed.components.seconds * 1_000_000_000) }
        }
        nanos.sort()
        func percentile(_ p: Double) -> Double { Double(nanos[min(nanos.count - 1, Int(Double(nanos.count) * p))]) / 1000 }
        print(String(format: "loopback round trip (heartbeat and response, one at a time, %d rounds): p50 %.0f µs, p99 %.0f µs, max %.0f µs",
                     count, percentile(0.5), percentile(0.99), Double(nanos.last!) / 1000))
        await one.shutdown()
        await two.shutdown()
        _ = await echo.value
    }

    /// CPU time of the whole process (sender, receiver and their event loops).
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    struct BenchError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Runs async work from the benchmark's synchronous entry point.
    static func blocking(_ body: @escaping @Sendable () async throws -> Void) throws {
        let outcome = Mutex<(any Error)??>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            do { try await body(); outcome.withLock { $0 = .some(nil) } } catch { outcome.withLock { $0 = .some(error) } }
            done.signal()
        }
        done.wait()
        if let error = outcome.withLock({ $0 }) ?? nil { throw error }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
