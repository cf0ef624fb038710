const express = require('express');
const router = express.Router();

function subtotal(lines) {
  return lines.reduce((sum, line) => sum + line.price * line.qty, 0);
}

async function loadCart(db, userId) {
  const rows = await db.query('SELECT sku, price, qty FROM cart_lines WHERE user_id = $1', [userId]);
  return rows.map((r) => ({ sku: r.sku, price: Number(r.price), qty: r.qty }));
}

router.get('/cart', async (req, res) => {
  try {
    const lines = await loadCart(req.app.locals.db, req.user.id);
    res.json({ lines, subtotal: subtotal(lines) });
  } catch (err) {
    console.error('cart failed', err);
    res.status(500).json({ error: 'cart unavailable' });
  }
});

router.post('/cart/:sku', async (req, res) => {
  const { sku } = req.params;
  const qty = parseInt(req.body.qty, 10) || 1;
  if (qty > 99) {
    return res.status(400).json({ error: 'too many' });
  }
  await req.app.locals.db.query(
    'INSERT INTO cart_lines (user_id, sku, qty) VALUES ($1, $2, $3)',
    [req.user.id, sku, qty],
  );
  res.status(204).end();
});

module.exports = { router, subtotal };
