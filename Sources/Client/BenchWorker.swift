import Histogram
import NIOCore
import NIOHTTP1
import NIOPosix

/// One `orchestrator bench` client: a keep-alive HTTP/1.1 connection that cycles its own
/// instance through the workflow, driven entirely on the connection's event loop.
///
/// The load generator shares the machine with the nodes it measures, so it has to be cheap:
/// each answer is read and the next request written in the same event-loop callback (no
/// hop through a task per call), bodies are built from pre-encoded pieces, and a success
/// answer is scanned only for its top-level `state` (and `id`) instead of being decoded
/// with Foundation. Error answers, rare by design, go through the client's full decoding
/// (`OrchestratorClient.decode`), so codes and retry rules are the ones `submit` uses.
final class BenchWorker: @unchecked Sendable {
    // Safety: every mutable property is read and written only on `eventLoop` (the worker's
    // connection is made on that loop, its handler runs there, and every scheduled callback
    // is scheduled on it); `start()` hops onto the loop first. `assertInEventLoop` checks
    // it in debug builds.
    struct Plan: Sendable {
        var host: String
        var port: Int
        var worker: Int
        var runID: String
        var workflow: String
        var initial: String
        var next: [String: String]
        var budget: Bench.Budget
        var deadline: NIODeadline
        var retry: RetryPolicy
        var attemptTimeout: TimeAmount = .seconds(10)
    }

    private struct Call {
        var isStart: Bool
        var head: HTTPRequestHead
        var body: ByteBuffer
        var firstAttempt: NIODeadline
        var attempts = 1
        var backoffMillis: Int
    }

    let eventLoop: any EventLoop
    private let plan: Plan
    private let finished: EventLoopPromise<Bench.WorkerResult>
    private var result = Bench.WorkerResult()
    private var retries: [String: Int] = [:]
    private var instance: String? {
        didSet { instancePath = instance.map { "/v1/instances/\(Endpoint<Empty>.escape($0))/transitions" } ?? "" }
    }
    private var instancePath = ""
    private var state: String
    private var generation = 0
    private var sequence = 0
    private var call: Call?
    private var channel: (any Channel)?
    private var connecting = false
    private var attemptTimeout: Scheduled<Void>?
    private var done = false
    /// `{"transition":"<name>","request_id":"` per transition name, encoded once.
    private var transitionPrefixes: [String: [UInt8]] = [:]

    init(plan: Plan, eventLoop: any EventLoop) {
        self.plan = plan
        self.eventLoop = eventLoop
        self.state = plan.initial
        finished = eventLoop.makePromise(of: Bench.WorkerResult.self)
    }

    /// Starts the worker; the future completes with its figures once the deadline (or the
    /// budget) is reached and the call in flight has ended.
    func start() -> EventLoopFuture<Bench.WorkerResult> {
        eventLoop.execute { self.issueNext() }
        return finished.futureResult
    }

    // MARK: Calls

    private func issueNext() {
        eventLoop.assertInEventLoop()
        guard !done else { return }
        guard NIODeadline.now() < plan.deadline else { return finish() }
        guard instance != nil else {
            let id = "bench-\(plan.runID)-\(plan.worker)-\(generation)"
            generation += 1
            var body = ByteBuffer()
            body.writeString("{\"workflow\":")
            body.writeBytes(JSONWriter.bytes(.string(plan.workflow)))
            body.writeString(",\"id\":\"\(id)\",\"request_id\":\"\(id)\"}")
            send(Call(isStart: true, head: head(path: "/v1/instances", bodyBytes: body.readableBytes), body: body,
                      firstAttempt: .now(), backoffMillis: plan.retry.initialBackoffMillis))
            return
        }
        guard let transition = plan.next[state] else {
            instance = nil   // reached a final state: start a new instance
            return issueNext()
        }
        guard plan.budget.take() else { return finish() }
        sequence += 1
        var body = ByteBuffer()
        body.writeBytes(prefix(for: transition))
        body.writeString("b-\(plan.runID)-\(plan.worker)-\(sequence)\"}")
        send(Call(isStart: false, head: head(path: instancePath, bodyBytes: body.readableBytes), body: body,
                  firstAttempt: .now(), backoffMillis: plan.retry.initialBackoffMillis))
    }

    private func prefix(for transition: String) -> [UInt8] {
        if let known = transitionPrefixes[transition] { return known }
        let made = Array("{\"transition\":".utf8) + JSONWriter.bytes(.string(transition)) + Array(",\"request_id\":\"".utf8)
        transitionPrefixes[transition] = made
        return made
    }

    private func head(path: String, bodyBytes: Int) -> HTTPRequestHead {
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
        head.headers.add(name: "Host", value: "\(plan.host):\(plan.port)")
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Content-Length", value: "\(bodyBytes)")
        return head
    }

    private func send(_ next: Call) {
        call = next
        guard let channel, channel.isActive else { return connect() }
        channel.write(HTTPClientRequestPart.head(next.head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(next.body)), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        attemptTimeout = eventLoop.scheduleTask(in: plan.attemptTimeout) { [weak channel] in
            channel?.close(promise: nil)   // surfaces as a lost connection, which retries
        }
    }

    private func connect() {
        guard !connecting else { return }
        connecting = true
        let worker = self
        ClientBootstrap(group: eventLoop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(2))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(BenchConnectionHandler(worker: worker))
                }
            }
            .connect(host: plan.host, port: plan.port)
            .whenComplete { outcome in
                worker.connecting = false
                switch outcome {
                case .success(let channel):
                    worker.channel = channel
                    if worker.done {
                        channel.close(promise: nil)
                    } else if let call = worker.call {
                        worker.send(call)
                    }
                case .failure:
                    worker.failed(code: "connection_failed")
                }
            }
    }

    // MARK: Answers (called by the handler)

    func answered(status: Int, body: ByteBuffer) {
        eventLoop.assertInEventLoop()
        attemptTimeout?.cancel()
        attemptTimeout = nil
        guard let current = call else { return }
        if (200..<300).contains(status) {
            call = nil
            let state = TopLevelJSON.string("state", in: body)
            if current.isStart {
                result.starts += 1
                instance = TopLevelJSON.string("id", in: body)
                self.state = state ?? plan.initial
            } else {
                let micros = (NIODeadline.now() - current.firstAttempt).nanoseconds
                _ = result.latencies.record(UInt64(max(micros, 0)))
                result.transitions += 1
                if let state { self.state = state }
            }
            return issueNext()
        }
        let bytes = Array(body.readableBytesView)
        do {
            _ = try OrchestratorClient.decode(status: status, body: bytes, as: Empty.self)
            failed(code: "http_\(status)")   // not reached: a non-2xx answer always throws
        } catch let error as ClientError {
            if error.isRetryable { return failed(code: error.code) }
            call = nil
            result.errors[error.code, default: 0] += 1
            if case .rejected(_, _, _, let details) = error {
                if current.isStart { return finish() }   // no point in looping on a refusal
                if let actual = details["state"]?.stringValue ?? details["actual"]?.stringValue {
                    state = actual
                } else {
                    instance = nil
                }
            }
            issueNext()
        } catch {
            failed(code: "http_\(status)")
        }
    }

    func connectionClosed(_ closed: any Channel) {
        eventLoop.assertInEventLoop()
        guard closed === channel else { return }
        channel = nil
        attemptTimeout?.cancel()
        attemptTimeout = nil
        if call != nil { failed(code: "connection_failed") }
    }

    /// A call that found the cluster unavailable: retried with the same request id after
    /// a backoff (the policy `submit` uses), or counted as an error when the policy is spent.
    private func failed(code: String) {
        guard var current = call else { return }
        let wake = NIODeadline.now() + .milliseconds(Int64(current.backoffMillis))
        let giveUp = current.firstAttempt + .milliseconds(Int64(plan.retry.deadlineSeconds * 1_000))
        guard !done, current.attempts < plan.retry.attemptsMax, wake < giveUp else {
            call = nil
            result.errors[code, default: 0] += 1
            return issueNext()
        }
        retries[code, default: 0] += 1
        current.attempts += 1
        let delay = current.backoffMillis
        current.backoffMillis = min(max(current.backoffMillis * 2, 1), plan.retry.maxBackoffMillis)
        call = current
        eventLoop.scheduleTask(in: .milliseconds(Int64(delay))) { [self] in
            if let call, !done { send(call) }
        }
    }

    private func finish() {
        guard !done else { return }
        done = true
        result.retries = retries
        channel?.close(promise: nil)
        finished.succeed(result)
    }
}

/// Reads one answer at a time off a bench connection and hands it to its worker.
private final class BenchConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let worker: BenchWorker
    private var status = 0
    private var body = ByteBuffer()

    init(worker: BenchWorker) {
        self.worker = worker
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            body.clear()
        case .body(var part):
            body.writeBuffer(&part)
        case .end:
            worker.answered(status: status, body: body)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        worker.connectionClosed(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Finds a top-level string member of a JSON object without decoding the rest: enough for
/// the load generator to follow `state` in the API's answers. Nested objects and arrays are
/// skipped; nil when the member is missing or not a string.
enum TopLevelJSON {
    static func string(_ key: String, in buffer: ByteBuffer) -> String? {
        buffer.withUnsafeReadableBytes { bytes in
            var scanner = Scanner(bytes: bytes)
            return scanner.member(Array(key.utf8))
        }
    }

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var at = 0

        init(bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
        }

        mutating func skipSpace() {
            while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x0D || bytes[at] == 0x09 { at += 1 }
        }

        mutating func member(_ key: [UInt8]) -> String? {
            skipSpace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: "{") else { return nil }
            at += 1
            while true {
                skipSpace()
                guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { return nil }
                guard let name = readString() else { return nil }
                skipSpace()
                guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { return nil }
                at += 1
                skipSpace()
                guard at < bytes.count else { return nil }
                if Array(name.utf8) == key {
                    return bytes[at] == UInt8(ascii: "\"") ? readString() : nil
                }
                guard skipValue() else { return nil }
                skipSpace()
                guard at < bytes.count, bytes[at] == UInt8(ascii: ",") else { return nil }
                at += 1
            }
        }

        /// Reads a string starting at its opening quote; handles the escapes the API writes.
        mutating func readString() -> String? {
            at += 1
            var out: [UInt8] = []
            while at < bytes.count {
                let byte = bytes[at]
                at += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard at < bytes.count else { return nil }
                    let escaped = bytes[at]
                    at += 1
                    switch escaped {
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "u"):
                        guard at + 4 <= bytes.count,
                              let code = UInt32(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[at..<at + 4]), as: UTF8.self), radix: 16),
                              let scalar = Unicode.Scalar(code) else { return nil }
                        out.append(contentsOf: Array(String(Character(scalar)).utf8))
                        at += 4
                    default: out.append(escaped)
                    }
                default:
                    out.append(byte)
                }
            }
            return nil
        }

        /// Skips one value (string, number, literal, or a nested object/array).
        mutating func skipValue() -> Bool {
            guard at < bytes.count else { return false }
            switch bytes[at] {
            case UInt8(ascii: "\""):
                return readString() != nil
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while at < bytes.count {
                    switch bytes[at] {
                    case UInt8(ascii: "\""):
                        guard readString() != nil else { return false }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 {
                            at += 1
                            return true
                        }
                    default: break
                    }
                    at += 1
                }
                return false
            default:
                while at < bytes.count, bytes[at] != UInt8(ascii: ","), bytes[at] != UInt8(ascii: "}") { at += 1 }
                return true
            }
        }
    }
}
