import Foundation
import Raft
import Synchronization
import XCTest

@testable import RaftTransport

/// The inbox's callbacks stay one call deep however many batches went through it. A closure
/// kept bare in a `Mutex` gained a reabstraction thunk on every read, so each delivery walked
/// a chain as long as the node's uptime in batches (found at idle: ~10 ms of a node loop's
/// tick spent in the chain after ~100,000 entries).
final class MessageInboxTests: XCTestCase {
    func testDeliveringManyBatchesDoesNotDeepenTheCallbacks() throws {
        let (_, continuation) = AsyncStream<Message>.makeStream()
        let inbox = MessageInbox(continuation: continuation, counters: TransportCounters())
        let heard = Atomic<Int>(0)
        let received = Atomic<Int>(0)
        inbox.setOnHeard { _ in heard.add(1, ordering: .relaxed) }
        inbox.setReceiver(MessageReceiver { received.add($0.count, ordering: .relaxed) })
        let batch = [Message(from: 2, to: 1, term: 1, payload: .heartbeatResponse(Message.HeartbeatResponse(readRound: 0)))]
        let deliveries = 20_000
        // On a thread with a 256 KiB stack: a chain one thunk deeper per delivery overflows
        // it long before the last batch (and the process dies, failing the run); calls that
        // stay one deep never come near it.
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            for _ in 0..<deliveries { inbox.deliver(batch) }
            done.signal()
        }
        thread.stackSize = 256 << 10
        thread.start()
        done.wait()
        XCTAssertEqual(heard.load(ordering: .relaxed), deliveries)
        XCTAssertEqual(received.load(ordering: .relaxed), deliveries)
    }
}
