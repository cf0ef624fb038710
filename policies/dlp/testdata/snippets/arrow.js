const total = (items) =>
  items.filter((i) => i.active).reduce((sum, i) => sum + i.price * i.qty, 0);
