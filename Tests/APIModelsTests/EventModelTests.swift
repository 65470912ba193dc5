import APIModels
import JSON
import XCTest

/// The shapes of `GET /v1/stats` and `GET /v1/events`, both ways.
final class EventModelTests: XCTestCase {
    func testStatsCodingsAgree() throws {
        let order = WorkflowStats(name: "order", version: 2, total: 3, finished: 1, states: ["created": 1, "paid": 1, "cancelled": 1])
        let text = try assertCodingsAgree(StatsInfo(node: 1, appliedIndex: 42, total: 3, workflows: [order]))
        XCTAssertEqual(text, #"{"applied_index":42,"node":1,"total":3,"workflows":[{"finished":1,"name":"order","#
                       + #""states":{"cancelled":1,"created":1,"paid":1},"total":3,"version":2}]}"#)
        try assertCodingsAgree(StatsInfo(node: 2, appliedIndex: 0, total: 0, workflows: []))
    }

    func testEventChangeWritesWhatDoesNotApplyAsNull() throws {
        let moved = EventChange(type: "instance_moved", instance: "o-17", workflow: "order", transition: "pay", from: "created",
                                to: "paid", revision: 2)
        XCTAssertEqual(try assertCodingsAgree(moved),
                       #"{"attempt":null,"dispatch":null,"from":"created","instance":"o-17","plugin":null,"revision":2,"#
                       + #""state":null,"succeeded":null,"to":"paid","transition":"pay","type":"instance_moved","version":null,"#
                       + #""workflow":"order"}"#)
        try assertCodingsAgree(EventChange(type: "dispatch_finished", instance: "o-17", dispatch: "9.1", succeeded: false))
        try assertCodingsAgree(EventChange(type: "dispatch_retry", instance: "o-17", dispatch: "9.1", attempt: 2))
        try assertCodingsAgree(EventChange(type: "instance_started", instance: "o-17", workflow: "order", version: 1, state: "created"))
    }

    func testEventBatchNoticeAndLeaderCodingsAgree() throws {
        let batch = EventBatch(index: 9, term: 3, changes: [EventChange(type: "workflow_registered", workflow: "order", version: 1)])
        XCTAssertTrue(try assertCodingsAgree(batch).hasSuffix(#""index":9,"term":3}"#))
        XCTAssertEqual(try assertCodingsAgree(EventNotice(reason: "refetch", index: 7)), #"{"index":7,"reason":"refetch"}"#)
        XCTAssertEqual(try assertCodingsAgree(LeaderEvent(node: 2, leader: nil, term: 4)), #"{"leader":null,"node":2,"term":4}"#)
        try assertCodingsAgree(LeaderEvent(node: 2, leader: 1, term: 4))
    }
}
