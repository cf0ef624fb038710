def tiered_price(units, tiers):
    total = 0.0
    remaining = units
    for limit, rate in tiers:
        take = min(remaining, limit)
        total += take * rate
        remaining -= take
        if remaining <= 0:
            break
    return round(total, 2)


def apply_discount(price, code):
    discounts = {"SPRING": 0.1, "LOYAL": 0.15}
    rate = discounts.get(code.upper(), 0)
    return price * (1 - rate)
