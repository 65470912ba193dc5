import Engine
import Foundation
import Logging
@testable import Server
import XCTest

final class WorkflowRegistrarTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("registrar-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("workflows"), withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func write(_ name: String, _ text: String) throws {
        try text.write(to: directory.appendingPathComponent("workflows/\(name).yaml"), atomically: true, encoding: .utf8)
    }

    private func registrations(_ twin: LeaderTwin) -> [String] {
        twin.proposals.compactMap { if case .registerWorkflow(let r) = $0 { r.definition.name } else { nil } }
    }

    func testEachChangedFileIsRegisteredOnceAcrossLeaderChanges() async throws {
        try write("ring", "workflow: ring\ninitial: a\nstates:\n  a: {}\n  b: {}\ntransitions:\n  go: { from: a, to: b }\n")
        try write("flat", "workflow: flat\ninitial: only\nstates:\n  only: {}\n")
        let twin = LeaderTwin()
        let registrar = WorkflowRegistrar(directory: directory.appendingPathComponent("workflows").path,
                                          pluginsDirectory: directory.appendingPathComponent("plugins").path)
        let services = LeaderServices(consensus: twin, engine: twin.engine, clock: twin.clock, services: [registrar],
                                      logger: Logger(label: "test"))
        let running = Task { try await services.run() }

        twin.set(.leading(term: 1, sinceIndex: 1))
        try await assertEventually { self.registrations(twin).sorted() == ["flat", "ring"] }
        twin.set(.following(term: 2, leader: 2))
        twin.set(.leading(term: 3, sinceIndex: 5))
        try await assertEventually { services.termsStarted == 2 && services.phase == .running(term: 3) }
        try await Task.sleep(for: .milliseconds(100))
        XCTAssertEqual(registrations(twin).count, 2, "unchanged files are not proposed again by a new leader")

        try write("ring", "workflow: ring\ninitial: a\nstates:\n  a: {}\n  b: {}\n  c: {}\ntransitions:\n  go: { from: a, to: b }\n")
        twin.set(.following(term: 4, leader: 2))
        twin.set(.leading(term: 5, sinceIndex: 9))
        try await assertEventually { self.registrations(twin).count == 3 }
        XCTAssertEqual(registrations(twin).last, "ring")
        XCTAssertEqual(twin.engine.workflow(named: "ring")?.versions.count, 2)
        XCTAssertEqual(twin.engine.workflow(named: "flat")?.versions.count, 1)
        twin.set(.stopped)
        try await running.value
    }

    func testANodeWithoutAWorkflowsDirectoryStartsWithNoneAndKeepsRunning() async throws {
        let twin = LeaderTwin()
        let registrar = WorkflowRegistrar(directory: directory.appendingPathComponent("missing").path,
                                          pluginsDirectory: directory.appendingPathComponent("plugins").path)
        let services = LeaderServices(consensus: twin, engine: twin.engine, clock: twin.clock, services: [registrar],
                                      logger: Logger(label: "test"))
        let running = Task { try await services.run() }
        twin.set(.leading(term: 1, sinceIndex: 1))
        try await assertEventually { services.phase == .running(term: 1) }
        try await Task.sleep(for: .milliseconds(50))
        XCTAssertEqual(twin.proposals.count, 0)
        XCTAssertFalse(running.isCancelled)
        twin.set(.stopped)
        try await running.value
    }
}
