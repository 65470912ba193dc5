import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// One connection's `HTTPConnectionClock`, its timer and its place in the listener's
/// `HTTPConnectionLimiter`, shared by the two handlers that watch it: `HTTPByteWatcher`
/// in front of the HTTP decoder (it sees bytes arrive) and `HTTPRequestWatcher` behind it
/// (it sees request heads, bodies and ends, and the ends of responses). Lives on the
/// connection's event loop.
final class HTTPConnectionWatch {
    let limiter: HTTPConnectionLimiter
    private(set) var clock: HTTPConnectionClock
    /// The id in the limiter; nil before the connection became active, or when refused.
    private var id: UInt64?
    /// The turn the limiter was last told of.
    private var toldTurn: HTTPConnectionClock.Turn?
    private var timer: Scheduled<Void>?
    private var timerAtNanos: UInt64 = .max
    private var closed = false
    private let logger: Logger

    init(limiter: HTTPConnectionLimiter) {
        self.limiter = limiter
        self.logger = limiter.logger
        clock = HTTPConnectionClock(limits: limiter.limits, openedAtNanos: Self.now())
    }

    static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    /// The connection is up: take a place in the listener, or close it when refused.
    func activate(_ channel: any Channel) {
        guard id == nil, !closed else { return }
        let now = Self.now()
        clock = HTTPConnectionClock(limits: limiter.limits, openedAtNanos: now)
        guard let id = limiter.admit(channel, atNanos: now) else {
            closed = true
            channel.close(promise: nil)
            return
        }
        self.id = id
        toldTurn = clock.turn
        rearm(channel)
    }

    /// Applies `change` to the clock, then tells the limiter whose turn it is if that changed
    /// and moves the timer if the next deadline came closer.
    func record(_ channel: any Channel, _ change: (inout HTTPConnectionClock) -> Void) {
        change(&clock)
        guard let id, !closed else { return }
        let turn = clock.turn
        if turn != toldTurn {
            toldTurn = turn
            limiter.update(id, turn: turn)
        }
        rearm(channel)
    }

    /// Schedules the timer for the next deadline unless one is set no later. A timer that
    /// fires early (the deadline moved on) just schedules itself again.
    private func rearm(_ channel: any Channel) {
        guard let deadline = clock.nextDeadline, deadline.atNanos < timerAtNanos else { return }
        timer?.cancel()
        timerAtNanos = deadline.atNanos
        timer = channel.eventLoop.assumeIsolated().scheduleTask(deadline: .uptimeNanoseconds(deadline.atNanos)) { [self] in
            timer = nil
            timerAtNanos = .max
            fire(channel)
        }
    }

    private func fire(_ channel: any Channel) {
        guard !closed else { return }
        guard let deadline = clock.nextDeadline else { return }
        guard deadline.atNanos <= Self.now() else {
            rearm(channel)
            return
        }
        closed = true
        limiter.timedOut(deadline.timeout)
        logger.debug("closing HTTP connection: \(deadline.timeout.rawValue) timeout",
                     metadata: ["remote": "\(channel.remoteAddress.map { "\($0)" } ?? "?")"])
        channel.close(promise: nil)
    }

    /// The connection closed: give its place back and stop the timer.
    func deactivate() {
        closed = true
        timer?.cancel()
        timer = nil
        if let id { limiter.closed(id) }
        id = nil
    }
}

/// The front half of the watch: sits before the HTTP decoder (behind TLS, when there is
/// one) and sees the connection open and close, bytes arrive, and its send buffers fill
/// up and drain. It owns the shared
/// `HTTPConnectionWatch`; `HTTPRequestWatcher` finds it in the pipeline.
final class HTTPByteWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let watch: HTTPConnectionWatch

    init(limiter: HTTPConnectionLimiter) {
        watch = HTTPConnectionWatch(limiter: limiter)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { watch.activate(context.channel) }
    }

    func channelActive(context: ChannelHandlerContext) {
        watch.activate(context.channel)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        watch.deactivate()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        watch.deactivate()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = HTTPConnectionWatch.now()
        watch.record(context.channel) { $0.bytesArrived(atNanos: now) }
        context.fireChannelRead(data)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let now = HTTPConnectionWatch.now()
        let writable = context.channel.isWritable
        watch.record(context.channel) { $0.writabilityChanged(writable: writable, atNanos: now) }
        context.fireChannelWritabilityChanged()
    }
}

/// The back half of the watch: sits after the HTTP/1 codec and sees request parts come in,
/// response ends go out, and the server ask for more bytes (a `read` reaches it only when
/// the request handler wants data: `NIOAsyncChannel` holds it back otherwise).
final class HTTPRequestWatcher: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var watch: HTTPConnectionWatch?

    init() {}

    func handlerAdded(context: ChannelHandlerContext) {
        watch = try? context.pipeline.syncOperations.handler(type: HTTPByteWatcher.self).watch
        assert(watch != nil, "HTTPRequestWatcher needs an HTTPByteWatcher before the HTTP decoder")
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = HTTPConnectionWatch.now()
        switch unwrapInboundIn(data) {
        case .head: watch?.record(context.channel) { $0.headRead(atNanos: now) }
        case .body: watch?.record(context.channel) { $0.bodyRead(atNanos: now) }
        case .end: watch?.record(context.channel) { $0.endRead() }
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        watch?.record(context.channel) { $0.readCompleted() }
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        let now = HTTPConnectionWatch.now()
        watch?.record(context.channel) { $0.readRequested(atNanos: now) }
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            let now = HTTPConnectionWatch.now()
            watch?.record(context.channel) { $0.responseEnded(atNanos: now) }
        }
        context.write(data, promise: promise)
    }
}

/// Hummingbird's HTTP/1.1 child channel with the listener's limits installed around it:
/// an `HTTPByteWatcher` in front of the HTTP decoder and an `HTTPRequestWatcher` behind the
/// codec. To put TLS in front, wrap it — HummingbirdTLS's
/// `.tls(.limitedHTTP1(limiter), tlsConfiguration: …)` adds its handler first, then calls
/// `setup` here — or add the TLS handler to the pipeline before calling `setup`. The
/// watchers then see decrypted bytes, and the head deadline, which runs from the connection
/// opening, covers the TLS handshake too.
public struct LimitedHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    public typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let limiter: HTTPConnectionLimiter
    public var responder: HTTPChannelHandler.Responder { base.responder }

    /// - Parameters:
    ///   - responder: the application's responder (from `HTTPServerBuilder`).
    ///   - limiter: the listener's limiter, shared by all its connections.
    ///   - configuration: Hummingbird's HTTP/1 settings; its `idleTimeout` stays unused
    ///     (the limiter's idle timeout replaces it).
    public init(responder: @escaping HTTPChannelHandler.Responder, limiter: HTTPConnectionLimiter,
                configuration: HTTP1Channel.Configuration = .init()) {
        var configuration = configuration
        let extra = configuration.additionalChannelHandlers
        configuration.additionalChannelHandlers = { [HTTPRequestWatcher() as any RemovableChannelHandler] + extra() }
        configuration.idleTimeout = nil
        base = HTTP1Channel(responder: responder, configuration: configuration)
        self.limiter = limiter
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(HTTPByteWatcher(limiter: limiter))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    public func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with the limits of `limiter` (one limiter per listener).
    ///
    /// ```swift
    /// let limiter = HTTPConnectionLimiter(limits: HTTPListenerLimits(), node: 1, listener: "127.0.0.1:8080")
    /// let app = Application(router: router, server: .limitedHTTP1(limiter),
    ///                       configuration: .init(address: .hostname("127.0.0.1", port: 8080)))
    /// ```
    public static func limitedHTTP1(_ limiter: HTTPConnectionLimiter,
                                    configuration: HTTP1Channel.Configuration = .init()) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            LimitedHTTP1Channel(responder: responder, limiter: limiter, configuration: configuration)
        }
    }
}
