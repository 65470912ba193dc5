import Client
import Histogram
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One `orchestrator bench` client: a keep-alive HTTP/1.1 connection that cycles its own
/// instance through the workflow, driven entirely on the connection's event loop. In a
/// closed loop it sends the next transition as soon as the last is answered; in an open
/// loop it takes the run's next ticket and sends it when it is due (`OpenLoopSchedule`),
/// at once when it is already late.
///
/// The load generator shares the machine with the nodes it measures, so it has to be cheap:
/// each answer is read and the next request written in the same event-loop callback (no
/// hop through a task per call), bodies are built from pre-encoded pieces, and a success
/// answer is scanned only for its top-level `state` (and `id`) instead of being decoded
/// with Foundation. Error answers, rare by design, go through the client's full decoding
/// (`ClientError(status:body:)`), so codes and retry rules are the ones `submit` uses.
final class BenchWorker: @unchecked Sendable {
    // Safety: every mutable property is read and written only on `eventLoop` (the worker's
    // connection is made on that loop, its handler runs there, and every scheduled callback
    // is scheduled on it); `prepare` and `run` hop onto the loop first. `assertInEventLoop`
    // checks it in debug builds.
    struct Plan: Sendable {
        var host: String
        var port: Int
        var worker: Int
        var runID: String
        var workflow: String
        var initial: String
        var next: [String: String]
        /// Shared by every worker of the run.
        var tickets: Tickets
        var retry: RetryPolicy
        /// Sent as `Authorization: Bearer` when set.
        var token: String?
        var attemptTimeout: TimeAmount = .seconds(10)
        /// For an https server: the run's TLS context (nil: plain HTTP).
        var tls: NIOSSLContext? = nil
    }

    private struct Call {
        var isStart: Bool
        /// The run's ticket of a transition (nil for a start).
        var ticket: Int?
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
    /// Until then no call starts; `prepare` and `run` set it.
    private var deadline = NIODeadline.distantPast
    /// Open loop only: when tickets are due, counted from `origin`.
    private var schedule: OpenLoopSchedule?
    private var origin = NIODeadline.distantPast
    /// Set while `prepare` waits for the instance to be started.
    private var preparing: EventLoopPromise<Void>?
    /// `{"transition":"<name>","request_id":"` per transition name, encoded once.
    private var transitionPrefixes: [String: [UInt8]] = [:]

    init(plan: Plan, eventLoop: any EventLoop) {
        self.plan = plan
        self.eventLoop = eventLoop
        self.state = plan.initial
        finished = eventLoop.makePromise(of: Bench.WorkerResult.self)
    }

    /// Starts the worker's instance and goes no further: the future completes once it is
    /// started, or once the worker gave up (a refused start, `deadline`). An open-loop run
    /// prepares every worker before its schedule begins, so the first tickets do not wait
    /// for the starts.
    func prepare(deadline: NIODeadline) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        eventLoop.execute {
            self.deadline = deadline
            self.preparing = promise
            self.issueNext()
        }
        return promise.futureResult
    }

    /// Runs the worker until `deadline` or the last ticket; the future completes with its
    /// figures once the call in flight has ended. With a `schedule`, ticket n is due at
    /// `origin` plus its intended time.
    func run(schedule: OpenLoopSchedule?, origin: NIODeadline, deadline: NIODeadline) -> EventLoopFuture<Bench.WorkerResult> {
        eventLoop.execute {
            self.schedule = schedule
            self.origin = origin
            self.deadline = deadline
            self.issueNext()
        }
        return finished.futureResult
    }

    // MARK: Calls

    private func issueNext() {
        eventLoop.assertInEventLoop()
        guard !done else { return }
        guard NIODeadline.now() < deadline else { return finish() }
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
        if let preparing {
            self.preparing = nil
            return preparing.succeed()
        }
        guard let transition = plan.next[state] else {
            instance = nil   // reached a final state: start a new instance
            return issueNext()
        }
        guard let ticket = plan.tickets.take() else { return finish() }
        sequence += 1
        var body = ByteBuffer()
        body.writeBytes(prefix(for: transition))
        body.writeString("b-\(plan.runID)-\(plan.worker)-\(sequence)\"}")
        let next = Call(isStart: false, ticket: ticket, head: head(path: instancePath, bodyBytes: body.readableBytes),
                        body: body, firstAttempt: .now(), backoffMillis: plan.retry.initialBackoffMillis)
        guard let schedule else { return send(next) }
        let due = origin + .nanoseconds(schedule.intendedNanos(ticket: ticket))
        guard due < deadline else { return finish() }   // the schedule ends with the run
        if due <= NIODeadline.now() { return sendDue(next) }
        // Free before the ticket is due: wait for it.
        eventLoop.scheduleTask(deadline: due) { [self] in
            if !done { sendDue(next) }
        }
    }

    /// The first attempt of an open-loop ticket: records how late it is, then sends.
    private func sendDue(_ due: Call) {
        guard let schedule, let ticket = due.ticket else { return send(due) }
        let now = NIODeadline.now()
        result.maxLagNanos = max(result.maxLagNanos, schedule.lagNanos(ticket: ticket, sentNanos: (now - origin).nanoseconds))
        var first = due
        first.firstAttempt = now
        send(first)
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
        if let token = plan.token { head.headers.add(name: "Authorization", value: "Bearer \(token)") }
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
        let tls = plan.tls
        // SNI and the host name check need a name; an IP literal is checked against IP SANs.
        let serverHostname = (try? SocketAddress(ipAddress: plan.host, port: 0)) == nil ? plan.host : nil
        ClientBootstrap(group: eventLoop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(2))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverHostname))
                    }
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
                _ = result.latencies.record(UInt64(latencyNanos(of: current)))
                result.transitions += 1
                if let state { self.state = state }
            }
            return issueNext()
        }
        guard let error = ClientError(status: status, body: Array(body.readableBytesView)) else {
            return failed(code: "http_\(status)")   // not reached: a non-2xx answer is always an error
        }
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
    }

    /// An answered transition's latency: in an open loop from the time its ticket was due
    /// (so waiting for a free client counts), else from its first attempt; retries included.
    private func latencyNanos(of answered: Call) -> Int64 {
        let now = NIODeadline.now()
        if let schedule, let ticket = answered.ticket {
            return schedule.latencyNanos(ticket: ticket, answeredNanos: (now - origin).nanoseconds)
        }
        return max(0, (now - answered.firstAttempt).nanoseconds)
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
        preparing?.succeed()
        preparing = nil
        finished.succeed(result)
    }
}
