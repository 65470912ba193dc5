import Engine
import Logging
@testable import Server
import Synchronization
import Workflow
import XCTest

/// A service that records each term it ran for and how each run ended.
final class RecordingService: LeaderService {
    enum Event: Equatable { case started(term: UInt64, since: UInt64), cancelled(term: UInt64) }
    let name = "recorder"
    private let log = Mutex<[Event]>([])
    private let proposers = Mutex<[FencedProposer]>([])
    var events: [Event] { log.withLock { $0 } }
    var lastProposer: FencedProposer? { proposers.withLock { $0.last } }

    func run(as leader: LeaderContext) async throws {
        log.withLock { $0.append(.started(term: leader.term, since: leader.sinceIndex)) }
        proposers.withLock { $0.append(leader.proposer) }
        do {
            try await leader.clock.sleep(untilMillis: .max)
        } catch {
            log.withLock { $0.append(.cancelled(term: leader.term)) }
            throw error
        }
    }
}

/// Fails its first two runs, then returns.
final class Flaky: LeaderService {
    struct Failure: Error {}
    let name = "flaky"
    let runs = Mutex(0)
    func run(as leader: LeaderContext) async throws {
        let count = runs.withLock { runs in
            runs += 1
            return runs
        }
        if count < 3 { throw Failure() }
    }
}

final class LeaderServicesTests: XCTestCase {
    private func runtime(_ consensus: LeaderTwin, _ services: [any LeaderService],
                         stopGraceMillis: Int = 2_000) -> LeaderServices {
        var settings = LeaderServices.Settings()
        settings.restartBackoffMillis = 10
        settings.stopGraceMillis = stopGraceMillis
        return LeaderServices(consensus: consensus, engine: consensus.engine, clock: consensus.clock, services: services,
                              settings: settings, logger: Logger(label: "test"))
    }

    func testServicesStartForEachTermLedAndAreCancelledWhenDeposed() async throws {
        let twin = LeaderTwin()
        let service = RecordingService()
        let services = runtime(twin, [service])
        let running = Task { try await services.run() }
        try await Task.sleep(for: .milliseconds(50))
        XCTAssertEqual(service.events, [], "nothing runs on a follower")
        XCTAssertEqual(services.phase, .idle)

        twin.set(.leading(term: 3, sinceIndex: 10))
        try await assertEventually { service.events == [.started(term: 3, since: 10)] }
        XCTAssertEqual(services.phase, .running(term: 3))

        twin.set(.following(term: 4, leader: 2))
        try await assertEventually { service.events.last == .cancelled(term: 3) }
        try await assertEventually { services.phase == .idle }

        twin.set(.leading(term: 5, sinceIndex: 20))
        try await assertEventually { service.events.last == .started(term: 5, since: 20) }
        // Leading in a new term without a following in between restarts the services too.
        twin.set(.leading(term: 6, sinceIndex: 30))
        try await assertEventually { service.events.suffix(2) == [.cancelled(term: 5), .started(term: 6, since: 30)] }
        XCTAssertEqual(services.termsStarted, 3)

        twin.set(.stopped)
        try await running.value
        XCTAssertEqual(service.events.last, .cancelled(term: 6))
    }

    func testALateProposalFromADeposedTermIsRefusedBeforeItIsSent() async throws {
        let twin = LeaderTwin()
        let service = RecordingService()
        let services = runtime(twin, [service])
        let running = Task { try await services.run() }
        twin.set(.leading(term: 2, sinceIndex: 1))
        try await assertEventually { service.lastProposer != nil }
        let proposer = try XCTUnwrap(service.lastProposer)
        let definition = try XCTUnwrap(WorkflowLoader.load(text: "workflow: w\ninitial: a\nstates:\n  a: {}\n", file: "w.yaml").definition)
        _ = try await proposer.propose(.registerWorkflow(RegisterWorkflow(definition: definition)))
        XCTAssertEqual(twin.proposals.count, 1, "while leading, the fenced proposer proposes")

        twin.set(.following(term: 3, leader: 2))
        twin.set(.leading(term: 4, sinceIndex: 9))   // leading again, but in another term
        do {
            _ = try await proposer.propose(.startInstance(StartInstance(workflow: "w", id: "late")))
            XCTFail("a proposal fenced on term 2 must be refused in term 4")
        } catch {
            XCTAssertEqual(error, .deposed(term: 2, currentTerm: 4))
        }
        XCTAssertEqual(twin.proposals.count, 1, "the late proposal never reached the log")
        XCTAssertNil(twin.engine.instance(id: "late"))
        twin.set(.stopped)
        try await running.value
    }

    func testAServiceThatFailsIsRestartedWhileTheTermLasts() async throws {
        let flaky = Flaky()
        let twin = LeaderTwin()
        let services = runtime(twin, [flaky])
        let running = Task { try await services.run() }
        twin.set(.leading(term: 1, sinceIndex: 1))
        try await assertEventually { flaky.runs.withLock { $0 } == 3 }
        try await Task.sleep(for: .milliseconds(60))
        XCTAssertEqual(flaky.runs.withLock { $0 }, 3, "a service that returned is done for the term")
        twin.set(.stopped)
        try await running.value
    }

    func testStoppingIsBoundedEvenIfAServiceIgnoresCancellation() async throws {
        struct Stubborn: LeaderService {
            let name = "stubborn"
            func run(as leader: LeaderContext) async throws {
                // Ignores cancellation for a while (a misbehaving service).
                let until = ContinuousClock.now + .seconds(3)
                while ContinuousClock.now < until { try? await Task.sleep(for: .milliseconds(20)) }
            }
        }
        let twin = LeaderTwin()
        let services = runtime(twin, [Stubborn()], stopGraceMillis: 100)
        let running = Task { try await services.run() }
        twin.set(.leading(term: 1, sinceIndex: 1))
        try await assertEventually { services.phase == .running(term: 1) }
        let deposedAt = ContinuousClock.now
        twin.set(.following(term: 2, leader: 2))
        try await assertEventually { services.phase == .idle }
        XCTAssertLessThan(ContinuousClock.now - deposedAt, .seconds(2), "the runtime moved on after its grace period")
        twin.set(.stopped)
        try await running.value
    }
}
