import Testing
@testable import Stores
@Test func placeholder() { #expect(Bool(true)) }
