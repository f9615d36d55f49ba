import Foundation
import SyncEngine

/// Planning only (no network, no database): orders generated in memory, deterministically, planned in batches of
/// `batchSize` with an empty mapping table, as `SyncRunner` plans each page of a first import. Each size runs in
/// its own process so the peak RSS belongs to that size alone.
enum PlanningBench {
    static func run(_ options: Options) async throws {
        let count = options.int("orders", default: 10_000)
        let out = try options.string("out")
        let repeats = options.int("repeat", default: 0)
        var mapping = MappingSettings()
        mapping.taxMode = .create
        // Other settings, to compare plans across builds with `--dump` under more than the default ones.
        if let mode = options.optional("tax-mode") {
            guard let m = MappingSettings.TaxMode(rawValue: mode) else { throw BenchError("unknown --tax-mode \(mode)") }
            mapping.taxMode = m
        }
        if let rounding = options.optional("tax-rounding") {
            guard let r = TaxRounding(rawValue: rounding) else { throw BenchError("unknown --tax-rounding \(rounding)") }
            mapping.taxRounding = r
        }
        if let zone = options.optional("time-zone") {
            guard let tz = TimeZone(identifier: zone) else { throw BenchError("unknown --time-zone \(zone)") }
            mapping.storeTimeZone = tz
        }
        if let base = options.optional("base-currency") { mapping.baseCurrency = base }
        // `--dump FILE`: every planned operation (with its payload), problem, skip and mapping key, one per line, to
        // compare the plans of two builds byte for byte. (The text is kept in memory: not for RSS figures.)
        let dumpPath = options.optional("dump")
        var dump = [UInt8]()
        let settings = SyncSettings(mapping: mapping, start: Date(timeIntervalSince1970: 1_700_000_000))
        let rssStart = peakRSSBytes()

        var planSeconds = 0.0
        var planCPUSeconds = 0.0
        var generateSeconds = 0.0
        var operations = 0, problems = 0, skips = 0
        var checksum: UInt64 = 0
        var index = 0
        while index < count {
            let n = min(settings.batchSize, count - index)
            let g0 = wallSeconds()
            var changes = SourceChanges()
            changes.orders.reserveCapacity(n)
            for i in index..<(index + n) { changes.orders.append(OrderGenerator.change(i)) }
            let c0 = threadCPUSeconds()
            let p0 = wallSeconds()
            let keys = Planner.mappingKeys(for: changes, settings: settings.mapping)
            let plan = Planner.plan(changes, mappings: [:], settings: settings.mapping)
            let p1 = wallSeconds()
            planCPUSeconds += threadCPUSeconds() - c0
            generateSeconds += p0 - g0
            planSeconds += p1 - p0
            operations += plan.operations.count
            problems += plan.problems.count
            skips += plan.skips.count
            checksum = checksum &* 31 &+ UInt64(keys.count)
            for op in plan.operations { checksum = checksum &* 1_000_003 &+ UInt64(truncatingIfNeeded: op.fingerprint.hashValue & 0xFFFF) }
            if dumpPath != nil {
                dump.append(contentsOf: "keys \(keys.joined(separator: ","))\n".utf8)
                for op in plan.operations {
                    dump.append(contentsOf: "op \(op.kind) \(op.entityKey) \(op.zohoKey) \(op.fingerprint) ".utf8)
                    dump.append(contentsOf: op.payload.serialized())
                    dump.append(10)
                }
                for p in plan.problems { dump.append(contentsOf: "problem \(p.kind) \(p.entityKey) \(p.message)\n".utf8) }
                for s in plan.skips { dump.append(contentsOf: "skip \(s.entityKey) \(s.reason)\n".utf8) }
                dump.append(contentsOf: "cleared \(plan.cleared.joined(separator: ","))\n".utf8)
            }
            index += n
        }
        let rss = peakRSSBytes()
        if repeats > 0 {
            // `--repeat R`: the same orders planned R more times, after the figures above were taken; the fastest pass
            // is the figure least disturbed by other work on the machine (for comparing builds, not for the report).
            var batches: [SourceChanges] = []
            var start = 0
            while start < count {
                var changes = SourceChanges()
                for i in start..<min(start + settings.batchSize, count) { changes.orders.append(OrderGenerator.change(i)) }
                batches.append(changes)
                start += settings.batchSize
            }
            var fastest = Double.infinity, fastestWall = Double.infinity
            for _ in 0..<repeats {
                // The plans are kept until the pass is timed: freeing them is not planning (as above).
                var plans: [([String], SyncPlan)] = []
                plans.reserveCapacity(batches.count)
                let c0 = threadCPUSeconds(), w0 = wallSeconds()
                for changes in batches {
                    let keys = Planner.mappingKeys(for: changes, settings: settings.mapping)
                    plans.append((keys, Planner.plan(changes, mappings: [:], settings: settings.mapping)))
                }
                fastest = min(fastest, threadCPUSeconds() - c0)
                fastestWall = min(fastestWall, wallSeconds() - w0)
                plans.removeAll()
            }
            note("fastest of \(repeats) passes over \(count) orders: \(fmt(fastest * 1e6 / Double(count), 2)) µs CPU, "
                + "\(fmt(fastestWall * 1e6 / Double(count), 2)) µs wall per order")
        }
        if let dumpPath { try Data(dump).write(to: URL(fileURLWithPath: dumpPath)) }
        var r = JSONObject()
        r["orders"] = .int(count)
        r["batch_size"] = .int(settings.batchSize)
        r["plan_seconds"] = .decimal(Decimal(planSeconds).rounded(scale: 3))
        r["generate_seconds"] = .decimal(Decimal(generateSeconds).rounded(scale: 3))
        r["peak_rss_bytes"] = .int(rss)
        r["rss_at_start_bytes"] = .int(rssStart)
        r["operations"] = .int(operations)
        r["problems"] = .int(problems)
        r["skips"] = .int(skips)
        try writeResult(.object(r), to: out)
        note("planning \(count) orders: \(fmt(planSeconds, 3)) s (\(fmt(planCPUSeconds, 3)) s CPU), peak RSS \(fmt(Double(rss) / 1_048_576)) MiB, \(operations) operations, \(problems) problems")
    }
}

/// Deterministic orders shaped like a store's: registered customers and guests, 1–4 lines from a catalogue of
/// 500 SKUs, US orders tax-exclusive at 8.875 % with taxed shipping, EUR and GBP orders tax-inclusive at 20 %,
/// coupons on some lines, a captured payment on paid orders; mostly completed or shipped, some awaiting payment,
/// cancelled, or not sales at all. Order `i` depends on `i` only.
enum OrderGenerator {
    struct Rng {
        var state: UInt64
        init(_ seed: Int) { state = UInt64(truncatingIfNeeded: seed) &* 0x9E37_79B9_7F4A_7C15 &+ 0x1234_5678 }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    static let base = Date(timeIntervalSince1970: 1_700_000_000)

    static func money(_ cents: Int) -> Decimal { Decimal(sign: cents < 0 ? .minus : .plus, exponent: -2, significand: Decimal(abs(cents))) }

    /// `cents × rate / 100` rounded half up, with `rate` in thousandths of a percent (8.875 % = 8875).
    static func tax(_ cents: Int, rateMilli: Int) -> Int { (cents * rateMilli + 50_000) / 100_000 }

    /// Tax contained in an inclusive amount: `cents × r / (100 + r)`, rounded half up.
    static func includedTax(_ cents: Int, rateMilli: Int) -> Int { (cents * rateMilli * 2 + 100_000 + rateMilli) / (2 * (100_000 + rateMilli)) }

    static func change(_ i: Int) -> OrderChange {
        var rng = Rng(i)
        let id = Int64(100 + i)
        let created = base.addingTimeInterval(Double(i) * 37)
        var o = BCOrder(id: id, dateCreated: created, dateModified: created.addingTimeInterval(600))
        let statusRoll = rng.int(100)
        o.statusID = statusRoll < 45 ? 10 : statusRoll < 80 ? 11 : statusRoll < 86 ? 7 : statusRoll < 90 ? 2
            : statusRoll < 94 ? 5 : statusRoll < 97 ? 0 : 1
        let currencyRoll = rng.int(100)
        let (currency, inclusive, rateMilli, exchange): (String, Bool, Int, Decimal) =
            currencyRoll < 85 ? ("USD", false, 8_875, 1) : currencyRoll < 95 ? ("EUR", true, 20_000, Decimal(string: "0.92")!)
            : ("GBP", true, 20_000, Decimal(string: "0.79")!)
        o.currencyCode = currency
        o.defaultCurrencyCode = currency
        o.storeDefaultCurrencyCode = "USD"
        o.storeDefaultToTransactionalExchangeRate = exchange
        o.isTaxInclusivePricing = inclusive
        o.paymentMethod = "Credit Card"
        o.paymentStatus = o.statusID == 7 ? "" : "captured"

        let guest = rng.int(3) == 0
        let customer = 1 + rng.int(max(10, i / 3 + 1))
        o.customerID = guest ? 0 : Int64(customer)
        var billing = BCAddress()
        billing.firstName = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Linus", "Margaret"][rng.int(8)]
        billing.lastName = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Torvalds", "Hamilton"][rng.int(8)]
        billing.email = guest ? "guest\(i)@mail.example.net" : "customer\(customer)@example.com"
        billing.street1 = "\(1 + rng.int(999)) Main St"
        billing.city = "Springfield"
        billing.zip = String(10_000 + rng.int(89_999))
        billing.country = "United States"
        billing.countryISO2 = "US"
        o.billingAddress = billing

        var products: [BCOrderProduct] = []
        var taxes: [BCOrderTax] = []
        var subtotalEx = 0, subtotalInc = 0, totalTax = 0, discountTotal = 0, discountedInc = 0
        let lineCount = 1 + rng.int(4)
        for l in 0..<lineCount {
            var p = BCOrderProduct(id: id * 10 + Int64(l))
            let sku = rng.int(500)
            p.productID = Int64(1_000 + sku)
            p.sku = "SKU-\(sku)"
            p.name = "Product \(sku)"
            let unit = 500 + rng.int(14_500)
            let quantity = 1 + rng.int(3)
            p.quantity = Decimal(quantity)
            let amount = unit * quantity
            let coupon = rng.int(5) == 0 ? (amount + 5) / 10 : 0
            if inclusive {
                let unitTax = includedTax(unit, rateMilli: rateMilli)
                p.priceIncTax = money(unit); p.priceTax = money(unitTax); p.priceExTax = money(unit - unitTax)
                let lineTax = includedTax(amount, rateMilli: rateMilli)
                p.totalIncTax = money(amount); p.totalTax = money(lineTax); p.totalExTax = money(amount - lineTax)
                let afterDiscount = amount - coupon
                let discountedTax = includedTax(afterDiscount, rateMilli: rateMilli)
                p.discountedTotalIncTax = money(afterDiscount)
                subtotalInc += amount; subtotalEx += amount - lineTax
                totalTax += discountedTax
                discountedInc += afterDiscount
                taxes.append(row(id: p.id, name: "VAT", rateMilli: rateMilli, amount: discountedTax, type: "item", product: p.id))
            } else {
                let unitTax = tax(unit, rateMilli: rateMilli)
                p.priceExTax = money(unit); p.priceTax = money(unitTax); p.priceIncTax = money(unit + unitTax)
                let lineTax = tax(amount, rateMilli: rateMilli)
                p.totalExTax = money(amount); p.totalTax = money(lineTax); p.totalIncTax = money(amount + lineTax)
                let afterDiscount = amount - coupon
                let discountedTax = tax(afterDiscount, rateMilli: rateMilli)
                p.discountedTotalIncTax = money(afterDiscount + discountedTax)
                subtotalEx += amount; subtotalInc += amount + lineTax
                totalTax += discountedTax
                discountedInc += afterDiscount + discountedTax
                taxes.append(row(id: p.id, name: "NY State Sales Tax", rateMilli: rateMilli, amount: discountedTax, type: "item", product: p.id))
            }
            if coupon > 0 {
                p.appliedDiscounts = [BCAppliedDiscount(id: "1", amount: money(coupon), name: "Coupon", code: "SAVE10", target: "product")]
                discountTotal += coupon
            }
            products.append(p)
        }
        o.products = products

        // Shipping, taxed at the order's rate.
        let shipping = 499 + rng.int(1_500)
        var ship = BCShipping(id: id * 10 + 9)
        ship.method = "Flat Rate"
        ship.address = billing
        let shippingTax: Int
        if inclusive {
            shippingTax = includedTax(shipping, rateMilli: rateMilli)
            o.shippingCostIncTax = money(shipping); o.shippingCostExTax = money(shipping - shippingTax)
            ship.costIncTax = money(shipping); ship.costExTax = money(shipping - shippingTax)
        } else {
            shippingTax = tax(shipping, rateMilli: rateMilli)
            o.shippingCostExTax = money(shipping); o.shippingCostIncTax = money(shipping + shippingTax)
            ship.costExTax = money(shipping); ship.costIncTax = money(shipping + shippingTax)
        }
        o.shippingCostTax = money(shippingTax)
        ship.costTax = money(shippingTax)
        o.shipping = [ship]
        o.fees = []
        taxes.append(row(id: id * 10 + 8, name: inclusive ? "VAT" : "NY State Sales Tax", rateMilli: rateMilli, amount: shippingTax,
                         type: "shipping", product: nil))
        o.taxes = taxes

        let total = discountedInc + (inclusive ? shipping : shipping + shippingTax)
        o.subtotalExTax = money(subtotalEx); o.subtotalIncTax = money(subtotalInc)
        o.subtotalTax = money(subtotalInc - subtotalEx)
        o.totalIncTax = money(total)
        o.totalTax = money(totalTax + shippingTax)
        o.totalExTax = money(total - totalTax - shippingTax)
        o.couponDiscount = money(discountTotal)

        var transactions: [BCTransaction] = []
        if o.statusID != 7 && o.statusID != 0 && o.statusID != 1 {
            var t = BCTransaction(id: id * 100 + 1, orderID: id, event: "purchase", amount: money(total), dateCreated: created, status: "ok")
            t.gateway = "stripe"
            t.method = "credit_card"
            t.currency = currency
            t.gatewayTransactionID = "ch_\(id)"
            transactions.append(t)
        }
        return OrderChange(order: o, transactions: transactions)
    }

    static func row(id: Int64, name: String, rateMilli: Int, amount: Int, type: String, product: Int64?) -> BCOrderTax {
        var r = BCOrderTax(id: id)
        r.name = name
        r.taxClass = "Default"
        r.rate = Decimal(sign: .plus, exponent: -3, significand: Decimal(rateMilli))
        r.lineAmount = money(amount)
        r.lineItemType = type
        r.orderProductID = product
        return r
    }
}

/// CPU time of the calling thread: less sensitive than wall time to other processes on the machine.
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}
