import { expect, test } from '../fixtures/index.ts';
import { TEST_IDS } from '../fixtures/portal-model.ts';

test('a ticket inserted by the backend reaches the signed-in portal in real time', async ({
  page,
  ladder,
  tickets,
  target,
}) => {
  test.info().annotations.push({ type: 'target', description: `${target.targetKind} ${target.portalUrl}` });

  // Sign in through the UI, reach the dashboard, then socket → identity → join → changes ready →
  // service-role insert → event on time, exactly once.
  const cell = await test.step('walk the realtime ladder', () => ladder.run());
  expect(cell).toPassLadder();

  await test.step('the portal shows the new ticket', async () => {
    const row = page
      .getByTestId(TEST_IDS.ticketRow)
      .and(page.locator(`[data-ticket-id="${tickets.ids[0]}"]`));
    await expect(row).toBeVisible();
  });
});
