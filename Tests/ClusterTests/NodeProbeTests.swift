import Cluster
import NIOCore
import NIOPosix
import Raft
import RaftTransport
import Synchronization
import XCTest

/// What the probes ask of a node: a status read answered by the loop itself within a deadline,
/// and the reason its storage failed.
final class NodeProbeTests: XCTestCase {
    private func singleNode(persistence: any RaftPersistence & Sendable = MemoryPersistence(.bootstrap([1])),
                            eventLoop: (any EventLoop)? = nil) throws -> ClusterNode {
        var config = ClusterConfig(nodeID: 1)
        config.tickMillis = 10
        config.requestTimeoutMillis = 2_000
        let node = try ClusterNode(config: config, persistence: persistence, transport: InMemoryNetwork().transport(for: 1),
                                   stateMachine: KeyValueMachine(), addresses: [:], eventLoop: eventLoop)
        node.start()
        return node
    }

    func testLiveStatusIsAnsweredByTheLoopWithinItsDeadline() async throws {
        let node = try singleNode()
        _ = try await waitUntil { node.status.role == .leader }
        _ = try await node.propose(Array("x=1".utf8))
        let status = try await node.liveStatus(timeoutMillis: 1_000)
        XCTAssertEqual(status.id, 1)
        XCTAssertEqual(status.role, .leader)
        XCTAssertGreaterThanOrEqual(status.appliedIndex, 2, "the bootstrap entry and x=1")
        XCTAssertNil(status.storageFailure)
        await node.shutdown()
    }

    func testABlockedLoopDoesNotAnswerAndTheReadTimesOut() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let node = try singleNode(eventLoop: loop)
        _ = try await waitUntil { node.status.role == .leader }
        // Whatever holds the loop's thread (a disk that does not return from fsync) holds the answer.
        loop.execute { usleep(600_000) }
        let started = ContinuousClock.now
        do {
            _ = try await node.liveStatus(timeoutMillis: 150)
            XCTFail("a blocked loop answered")
        } catch ClusterError.timedOut {
            XCTAssertLessThan(ContinuousClock.now - started, .milliseconds(500), "the deadline, not the blocked loop, ended the wait")
        }
        // Once the loop is free it answers again.
        try await Task.sleep(for: .milliseconds(600))
        _ = try await node.liveStatus(timeoutMillis: 1_000)
        await node.shutdown()
        try await group.shutdownGracefully()
    }

    func testAStorageFailureStopsTheLoopAndIsReportedWithItsReason() async throws {
        let persistence = FailingPersistence(.bootstrap([1]))
        let node = try singleNode(persistence: persistence)
        _ = try await waitUntil { node.status.role == .leader }
        _ = try await node.propose(Array("x=1".utf8))
        persistence.failing.store(true, ordering: .relaxed)
        do {
            _ = try await node.propose(Array("x=2".utf8))
            XCTFail("a proposal was acknowledged although its entry could not be saved")
        } catch {}
        _ = try await waitUntil { node.status.storageFailure != nil }
        XCTAssertTrue(node.status.storageFailure?.contains("no space left") == true, "\(node.status)")
        do {
            _ = try await node.liveStatus(timeoutMillis: 1_000)
            XCTFail("a stopped loop answered")
        } catch ClusterError.storageFailed(let reason) {
            XCTAssertTrue(reason.contains("no space left"), reason)
        }
        await node.shutdown()
    }

    func testLiveStatusAfterShutdownSaysShuttingDown() async throws {
        let node = try singleNode()
        await node.shutdown()
        do {
            _ = try await node.liveStatus(timeoutMillis: 1_000)
            XCTFail("a stopped loop answered")
        } catch ClusterError.shuttingDown {}
    }
}

/// A persistence whose disk fails on demand: once `failing` is set every save throws, as a
/// full disk would.
final class FailingPersistence: RaftPersistence, Sendable {
    struct NoSpace: Error, CustomStringConvertible {
        var description: String { "pwrite: no space left on device" }
    }

    let inner: MemoryPersistence
    let failing = Atomic<Bool>(false)

    init(_ state: DurableState) { inner = MemoryPersistence(state) }

    func initialState() -> DurableState { inner.initialState() }

    func save(hardState: HardState?, entries: [Entry], snapshot: Snapshot?) throws {
        if failing.load(ordering: .relaxed) { throw NoSpace() }
        try inner.save(hardState: hardState, entries: entries, snapshot: snapshot)
    }

    func saveCommitIndex(_ hardState: HardState) throws {
        if failing.load(ordering: .relaxed) { throw NoSpace() }
        try inner.saveCommitIndex(hardState)
    }

    func saveLocalSnapshot(_ snapshot: Snapshot) throws { try inner.saveLocalSnapshot(snapshot) }
    func compact(through index: LogIndex) throws { try inner.compact(through: index) }
    func close() {}
}
