import type { Catalogue } from '../schemas/catalogue';

/** A small shop: two locations and a handful of SKUs, so a newcomer has something to look at. */
export const DEMO_CATALOGUE: Catalogue = {
  locations: [
    { code: 'WH1', name: 'Main warehouse' },
    { code: 'STORE1', name: 'City store' },
  ],
  items: [
    { name: 'Trail running shoe', skus: ['SHOE-TRAIL-42', 'SHOE-TRAIL-43', 'SHOE-TRAIL-44'] },
    { name: 'Merino beanie', skus: ['BEANIE-MERINO-GREY'] },
    { name: 'Insulated bottle 750 ml', skus: ['BOTTLE-750-BLACK', 'BOTTLE-750-SAND'] },
    { name: 'Made-to-order rain jacket', allowNegative: true, skus: ['JACKET-RAIN-MTO'] },
  ],
};
