// Check digits of Japanese insurance numbers, named so a Questionnaire item can ask for one with the extension
// http://kaigo-gateway.jp/fhir/StructureDefinition/check-digit (valueCode = a key of CHECK_DIGITS).

/**
 * 保険者番号設定要領 (厚生労働省): multiply the digits by 2 and 1 alternately starting from the last digit before
 * the check digit, add the digits of each product, and the check digit is 10 minus the last digit of the sum
 * (0 when that last digit is 0). Used for 保険者番号 and 介護保険事業所番号.
 */
export function mod10Weights21(digits: string): number {
  let sum = 0;
  for (let i = digits.length - 1, w = 2; i >= 0; i--, w = w === 2 ? 1 : 2) {
    const p = Number(digits[i]) * w;
    sum += p >= 10 ? Math.floor(p / 10) + (p % 10) : p;
  }
  return (10 - (sum % 10)) % 10;
}

export const CHECK_DIGITS: Record<string, { describe: string; valid: (v: string) => boolean }> = {
  'mod10-weights-2-1': {
    describe: 'the last digit must be the 保険者番号設定要領 check digit (modulus 10, weights 2-1)',
    valid: (v) => /^[0-9]{2,}$/.test(v) && mod10Weights21(v.slice(0, -1)) === Number(v.slice(-1)),
  },
};
