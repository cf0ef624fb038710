import csv
import logging
from dataclasses import dataclass, field
from typing import Dict, List, Optional

log = logging.getLogger(__name__)


@dataclass
class Item:
    sku: str
    name: str
    quantity: int = 0
    tags: List[str] = field(default_factory=list)


class Inventory:
    """Keeps stock levels and reorders when they run low."""

    def __init__(self, threshold: int = 5):
        self.items: Dict[str, Item] = {}
        self.threshold = threshold

    def add(self, item: Item) -> None:
        if item.sku in self.items:
            self.items[item.sku].quantity += item.quantity
        else:
            self.items[item.sku] = item

    def remove(self, sku: str, count: int) -> Optional[Item]:
        item = self.items.get(sku)
        if item is None:
            log.warning("unknown sku %s", sku)
            return None
        item.quantity = max(0, item.quantity - count)
        return item

    def low_stock(self) -> List[Item]:
        return [i for i in self.items.values() if i.quantity < self.threshold]

    def load(self, path: str) -> int:
        loaded = 0
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                self.add(Item(row["sku"], row["name"], int(row["quantity"])))
                loaded += 1
        return loaded


if __name__ == "__main__":
    inv = Inventory()
    print(inv.load("stock.csv"), "items loaded")
    for item in inv.low_stock():
        print(f"reorder {item.sku}: {item.name}")
