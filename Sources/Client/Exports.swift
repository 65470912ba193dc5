// The client's answers are the API's models (APIModels) and carry `JSONValue`s (instance
// data, error details), so a caller that imports Client sees both modules too.
@_exported import APIModels
@_exported import JSON
