import NIOCore
import NIOHTTP1

/// Reads one answer at a time off a bench connection and hands it to its worker.
final class BenchConnectionHandler: ChannelInboundHandler {
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
