import APIModels
import JSON
import XCTest

/// Every request-body model: the two codings agree, and absent members are left out (the
/// server treats a missing member and `null` alike, and a typo as an error).
final class RequestModelTests: XCTestCase {
    func testStartBodyLeavesOutAbsentMembers() throws {
        XCTAssertEqual(try assertCodingsAgree(StartBody(workflow: "cookbook", requestID: "c-1")),
                       #"{"request_id":"c-1","workflow":"cookbook"}"#)
        XCTAssertEqual(try assertCodingsAgree(StartBody(workflow: "order", id: "o-1", version: 2, data: ["n": 3],
                                                        requestID: "c-2")),
                       #"{"data":{"n":3},"id":"o-1","request_id":"c-2","version":2,"workflow":"order"}"#)
    }

    func testTransitionBodyLeavesOutAbsentMembers() throws {
        XCTAssertEqual(try assertCodingsAgree(TransitionBody(transition: "pay", requestID: "c-3")),
                       #"{"request_id":"c-3","transition":"pay"}"#)
        XCTAssertEqual(try assertCodingsAgree(TransitionBody(to: "third", expect: "second", data: ["n": nil], requestID: "c-4")),
                       #"{"data":{"n":null},"expect":"second","request_id":"c-4","to":"third"}"#)
    }

    func testMemberBodyCodingsAgree() throws {
        XCTAssertEqual(try assertCodingsAgree(MemberBody(id: 4, raft: "127.0.0.1:7083", api: "127.0.0.1:8083", learner: true)),
                       #"{"api":"127.0.0.1:8083","id":4,"learner":true,"raft":"127.0.0.1:7083"}"#)
        XCTAssertEqual(try assertCodingsAgree(MemberBody(id: 5, raft: "r:1", api: "a:1")), #"{"api":"a:1","id":5,"raft":"r:1"}"#)
    }

    func testTransferBodyCodingsAgree() throws {
        XCTAssertEqual(try assertCodingsAgree(TransferBody(to: 2)), #"{"to":2}"#)
    }
}
