import Testing
import TrellisDomain

@Suite("An email address, judged as the contract's pattern judges it")
struct EmailTests {
    @Test func acceptsWhatThePatternAccepts() {
        #expect(Email.isPlausible("olivia@northwind.example"))
        // The fuzzer's case: a variation selector right after the domain's dot makes one grapheme of the two,
        // but the dot is still there scalar by scalar, as the pattern in docs/openapi.yaml reads it.
        #expect(Email.isPlausible("ÉĈý\u{10}F@Ç\u{2}30\u{83}😍iy.\u{E01C3}ĉ"))
        #expect(Email.isPlausible("a@b.c"))
    }

    @Test func refusesWhatThePatternRefuses() {
        #expect(!Email.isPlausible("olivia.northwind.example"))
        #expect(!Email.isPlausible("@northwind.example"))
        #expect(!Email.isPlausible("olivia@northwind"))
        #expect(!Email.isPlausible("olivia@.northwind.example"))
        #expect(!Email.isPlausible("olivia@northwind.example."))
        #expect(!Email.isPlausible("oli via@northwind.example"))
        #expect(!Email.isPlausible("olivia@north\u{2028}wind.example"))
        #expect(!Email.isPlausible("olivia@a@northwind.example"))
        #expect(!Email.isPlausible("o\u{0}@northwind.example"))
        #expect(!Email.isPlausible(String(repeating: "a", count: 250) + "@b.cd"))
    }
}
