// Who gets in where: login, the 401 round trip, the 403 view and the 404 view.

import { join } from 'node:path';
import { adminDashboard, artifacts, col, expect, login, test } from './fixtures.mjs';

test('an anonymous visit to the dashboard lands on the login page', async ({ page }) => {
  await page.goto('/');
  await page.waitForURL(/\/login\?next=%2Fadmin%2Fwebsockets/);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await page.fill('input[name="username"]', 'admin');
  await page.fill('input[name="password"]', 'wrong-password');
  await page.click('button[type="submit"]');
  await expect(page.getByRole('alert')).toContainText('Wrong username or password');
  await page.screenshot({ path: join(artifacts, 'login-error.png') });
});

test('a 401 from the API sends the page to login with next', async ({ page, context, server }) => {
  await adminDashboard(page, server);
  await context.clearCookies();
  await page.fill('#find-ticker', 'AAPL');
  await page.click('.find button[type="submit"]');
  await page.waitForURL(/\/login\?next=%2Fadmin%2Fwebsockets/, { timeout: 10_000 });
  // and logging in again returns to the dashboard
  await page.fill('input[name="username"]', server.users.admin.username);
  await page.fill('input[name="password"]', server.users.admin.password);
  await page.click('button[type="submit"]');
  await page.waitForURL(server.base + '/admin/websockets');
  await page.waitForSelector(`${col(1)} tbody tr[data-symbol]`);
  await page.click('button:has-text("Log out")');
  await page.waitForURL(/\/login/);
});

test('a user without the role gets the not-allowed view (403), also on reload', async ({ page, server }) => {
  await login(page, server, 'user');
  await expect(page.getByRole('heading', { name: 'Not allowed' })).toBeVisible();
  const res = await page.reload();
  expect(res?.status(), 'page status for the user role').toBe(403);
  await expect(page.getByRole('heading', { name: 'Not allowed' })).toBeVisible();
  const api = await page.request.get('/api/admin/websocket-status');
  expect(api.status(), 'API status for the user role').toBe(403);
  await page.screenshot({ path: join(artifacts, 'not-allowed.png') });
});

test('an unknown path shows the 404 view', async ({ page }) => {
  const res = await page.goto('/no/such/page');
  expect(res?.status(), 'status').toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});
