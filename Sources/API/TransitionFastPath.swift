import Dispatch
import Engine
import HTTPTypes
import JSON
import Hummingbird
import NIOCore
import NIOHTTPTypes

/// `POST /v1/instances/{id}/transitions` answered on the connection's event loop, without a
/// task: the most frequent request, and the one whose cost was mostly hand-offs between
/// threads (docs/performance.md, "One hop fewer each way").
///
/// Through the router a transition wakes, in turn, the connection's event loop, a task on
/// the cooperative pool (Hummingbird's handler), the node loop, the pool again when the entry
/// is applied, and the event loop to write the answer. Here the event loop collects the
/// request, takes the same steps as the route (`Authenticator`, `transitionRequest`,
/// `transitionAnswer`, the same errors and metrics), proposes with a completion that the node
/// loop calls as it applies the entry, and writes the answer when the loop hands it back:
/// two hand-offs instead of four, and no per-request task, router walk or request logger.
///
/// It takes a request only when the route would answer it the same way here: a `POST` to
/// exactly that path (no query), with a valid id, on a node that does not forward it (the
/// leader, or a request a follower already forwarded), with no `Connection: close` or
/// `Expect`, and while no earlier request of the connection is still with the router.
/// Everything else passes through untouched. HTTP/1.1 answers in request order: while a
/// transition is in flight, later requests of a pipelining client wait here (and no more is
/// read from the socket) until its answer is written; a graceful-shutdown request waits for
/// that answer too.
final class TransitionFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The route's pattern, as the router names it in metrics.
    static let route = "/v1/instances/{id}/transitions"

    private struct Taken {
        var instance: String
        var headers: HTTPFields
        var body: ByteBuffer
        var tooLarge = false
        var startNanos: UInt64
    }

    private enum State {
        case idle
        case collecting(Taken)
        /// Proposed; the answer is on its way back from the node loop.
        case proposing
    }

    private let api: APIServer
    private var state = State.idle
    /// Requests handed on to the router whose answers have not been written yet.
    private var withRouter = 0
    /// Request parts that arrived while a transition was in flight, in order.
    private var waiting: [HTTPRequestPart] = []
    private var readRequested = false
    private var quiesceRequested: Any?
    private var active = true

    init(api: APIServer) {
        self.api = api
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .proposing = state {
            waiting.append(part)
        } else {
            take(part, context: context)
        }
    }

    private func take(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch (state, part) {
        case (.idle, .head(let head)):
            if let instance = takes(head) {
                state = .collecting(Taken(instance: instance, headers: head.headerFields, body: context.channel.allocator.buffer(capacity: 0),
                                          startNanos: DispatchTime.now().uptimeNanoseconds))
            } else {
                withRouter += 1
                context.fireChannelRead(wrapInboundOut(part))
            }
        case (.collecting(var taken), .body(var chunk)):
            state = .idle  // no copy of the buffer while it grows
            if taken.body.readableBytes + chunk.readableBytes > api.settings.bodyBytesMax {
                taken.tooLarge = true
                taken.body.clear()
            } else if !taken.tooLarge {
                taken.body.writeBuffer(&chunk)
            }
            state = .collecting(taken)
        case (.collecting(let taken), .end):
            answer(taken, context: context)
        case (.collecting, .head):
            // The HTTP decoder never starts a request inside another.
            break
        default:
            // A part of a request the router has.
            context.fireChannelRead(wrapInboundOut(part))
        }
    }

    /// The instance id when this request is one to answer here, else nil.
    private func takes(_ head: HTTPRequest) -> String? {
        guard head.method == .post, withRouter == 0, let path = head.path,
              path.hasPrefix("/v1/instances/"), path.hasSuffix("/transitions") else { return nil }
        let middle = path.utf8.dropFirst(14).dropLast(12)
        guard !middle.isEmpty, let instance = String(middle), EngineLimits.isValidID(instance) else { return nil }
        let headers = head.headerFields
        if headers[.expect] != nil { return nil }
        if let connection = headers[.connection], connection.lowercased().contains("close") { return nil }
        if let length = headers[.contentLength].flatMap(Int.init), length > api.settings.bodyBytesMax { return nil }
        // A follower forwards (unless the request was forwarded to it already): the router
        // does that.
        if headers[Forwarder.forwardedHeader] == nil, api.consensus.leaderAPIAddress != nil { return nil }
        return instance
    }

    /// Checks, proposes, and answers when the node loop hands the outcome back.
    private func answer(_ taken: Taken, context: ChannelHandlerContext) {
        state = .proposing
        if taken.tooLarge {
            return respond(error: APIError.bodyTooLarge(limitBytes: api.settings.bodyBytesMax), taken: taken, context: context)
        }
        let request: TransitionRequest
        do {
            let caller = try api.authenticator.authorize(taken.headers, .submit)
            request = try api.transitionRequest(instance: taken.instance, body: Array(buffer: taken.body),
                                                headerRequestID: taken.headers[Forwarder.requestIDHeader], caller: caller)
        } catch {
            return respond(error: error, taken: taken, context: context)
        }
        let command = Command.transition(request)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        api.consensus.propose(command) { [api] result in
            // On the node loop: turn the outcome into bytes there, then one hop to the
            // connection's loop to write them.
            let answer: Result<JSONValue, APIError>
            switch result {
            case .success(let committed):
                do throws(APIError) { answer = .success(try api.transitionAnswer(committed.outcome)) } catch { answer = .failure(error) }
            case .failure(let error):
                answer = .failure(api.proposalFailed(command, error))
            }
            bound.eventLoop.execute {
                let (handler, context) = bound.value
                switch answer {
                case .success(let body): handler.respond(status: .ok, body: body, headers: HTTPFields(), taken: taken, context: context)
                case .failure(let error): handler.respond(error: error, taken: taken, context: context)
                }
            }
        }
    }

    private func respond(error: any Error, taken: Taken, context: ChannelHandlerContext) {
        let apiError: APIError
        if let error = error as? APIError {
            apiError = error
        } else {
            api.logger.error("unexpected error", metadata: ["path": .string("/v1/instances/\(taken.instance)/transitions"),
                                                           "error": .string("\(error)")])
            apiError = APIError(status: .internalServerError, code: "internal", message: "internal error: \(error)")
        }
        respond(status: apiError.status, body: apiError.body, headers: apiError.headers, taken: taken, context: context)
    }

    private func respond(status: HTTPResponse.Status, body: JSONValue, headers: HTTPFields, taken: Taken,
                         context: ChannelHandlerContext) {
        api.requestTimers.record(route: Self.route, method: .post, status: status, sinceNanos: taken.startNanos)
        if active {
            let bytes = JSONResponse.bytes(body)
            var fields = headers
            fields[.contentType] = "application/json"
            fields[.contentLength] = String(bytes.count)
            context.write(wrapOutboundOut(.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
            context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: bytes))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        state = .idle
        resume(context: context)
    }

    /// After an answer: the requests that waited, a read that was held, a shutdown request.
    private func resume(context: ChannelHandlerContext) {
        if case .proposing = state { return }
        if !waiting.isEmpty {
            while !waiting.isEmpty {
                take(waiting.removeFirst(), context: context)
                if case .proposing = state { break }
            }
            // What the router was handed is delivered to it at the end of a read.
            context.fireChannelReadComplete()
            if case .proposing = state { return }
        }
        if readRequested, active {
            readRequested = false
            context.read()
        }
        if let event = quiesceRequested, case .idle = state {
            quiesceRequested = nil
            context.fireUserInboundEventTriggered(event)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, !isIdle {
            quiesceRequested = event
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        active = false
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        active = false
    }

    private var isIdle: Bool {
        if case .idle = state { return waiting.isEmpty }
        return false
    }

    // MARK: Outbound

    func read(context: ChannelHandlerContext) {
        if case .proposing = state {
            readRequested = true
        } else {
            context.read()
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), withRouter > 0 { withRouter -= 1 }
        context.write(data, promise: promise)
    }
}

extension APIServer {
    /// The channel handlers that put ``TransitionFastPath`` behind the HTTP codec of each
    /// connection: pass to `HTTP1Channel.Configuration.additionalChannelHandlers` (or
    /// `LimitedHTTP1Channel`'s).
    public func fastPathHandlers() -> [any RemovableChannelHandler] {
        [TransitionFastPath(api: self)]
    }
}
