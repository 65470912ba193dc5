extension ClientError {
    /// The error an API answer means, mapped exactly as every typed call maps it (503/504
    /// `.unavailable`, other 4xx `.rejected` with the envelope's code and details, anything
    /// else `.server`); nil for a 2xx. For callers that read answers off their own
    /// connections, such as the load generator.
    ///
    /// ```swift
    /// if let error = ClientError(status: 409, body: bytes), !error.isRetryable { print(error.code) }
    /// ```
    public init?(status: Int, body: [UInt8]) {
        do {
            _ = try OrchestratorClient.decode(status: status, body: body, as: Empty.self)
            return nil
        } catch let error as ClientError {
            self = error
        } catch {
            // `decode` throws only ClientErrors; anything else would be a new kind of answer.
            self = .server(status: status, body: String(decoding: body, as: UTF8.self))
        }
    }
}
