// The insurers (市区町村) of the generated store: real 全国地方公共団体コード (prefecture 2 + municipality 3 digits)
// with the project's check digit, weighted by population (10,000s, rounded) so that a large city holds many more
// documents than a small ward — the skew that makes "one municipality's documents" a realistic query.

export interface MunicipalitySeed {
  /** 5-digit 地方公共団体コード without its check digit */
  code: string;
  prefecture: string;
  name: string;
  /** towns used in generated addresses */
  towns: readonly string[];
  /** population in 10,000s: the share of persons living there */
  weight: number;
}

export const MUNICIPALITIES: readonly MunicipalitySeed[] = [
  {
    code: '14100',
    prefecture: '神奈川県',
    name: '横浜市',
    towns: ['港北区日吉', '青葉区美しが丘', '南区中村町'],
    weight: 377,
  },
  {
    code: '27100',
    prefecture: '大阪府',
    name: '大阪市',
    towns: ['北区天満', '住吉区長居', '東淀川区豊里'],
    weight: 275,
  },
  {
    code: '23100',
    prefecture: '愛知県',
    name: '名古屋市',
    towns: ['千種区覚王山', '中村区名駅', '緑区鳴海町'],
    weight: 233,
  },
  {
    code: '01100',
    prefecture: '北海道',
    name: '札幌市',
    towns: ['中央区南一条西', '北区北二十四条西', '豊平区月寒'],
    weight: 197,
  },
  {
    code: '40130',
    prefecture: '福岡県',
    name: '福岡市',
    towns: ['博多区千代', '中央区大名', '早良区西新'],
    weight: 161,
  },
  {
    code: '14130',
    prefecture: '神奈川県',
    name: '川崎市',
    towns: ['中原区小杉町', '麻生区百合丘', '川崎区大師町'],
    weight: 154,
  },
  {
    code: '28100',
    prefecture: '兵庫県',
    name: '神戸市',
    towns: ['中央区元町', '灘区六甲町', '垂水区星が丘'],
    weight: 151,
  },
  {
    code: '26100',
    prefecture: '京都府',
    name: '京都市',
    towns: ['左京区下鴨', '右京区太秦', '伏見区深草'],
    weight: 145,
  },
  {
    code: '11100',
    prefecture: '埼玉県',
    name: 'さいたま市',
    towns: ['浦和区常盤', '大宮区桜木町', '見沼区東大宮'],
    weight: 134,
  },
  {
    code: '34100',
    prefecture: '広島県',
    name: '広島市',
    towns: ['中区紙屋町', '安佐南区祇園', '南区宇品'],
    weight: 120,
  },
  {
    code: '04100',
    prefecture: '宮城県',
    name: '仙台市',
    towns: ['青葉区一番町', '泉区泉中央', '太白区長町'],
    weight: 109,
  },
  {
    code: '12100',
    prefecture: '千葉県',
    name: '千葉市',
    towns: ['中央区富士見', '稲毛区小仲台', '美浜区幸町'],
    weight: 98,
  },
  { code: '13112', prefecture: '東京都', name: '世田谷区', towns: ['三軒茶屋', '経堂', '成城'], weight: 94 },
  {
    code: '27140',
    prefecture: '大阪府',
    name: '堺市',
    towns: ['堺区大浜', '北区中百舌鳥町', '南区桃山台'],
    weight: 82,
  },
  {
    code: '15100',
    prefecture: '新潟県',
    name: '新潟市',
    towns: ['中央区古町通', '西区寺尾', '東区大形本町'],
    weight: 77,
  },
  { code: '13120', prefecture: '東京都', name: '練馬区', towns: ['石神井町', '光が丘', '大泉学園町'], weight: 74 },
  {
    code: '22100',
    prefecture: '静岡県',
    name: '静岡市',
    towns: ['葵区追手町', '駿河区中田', '清水区港町'],
    weight: 68,
  },
  { code: '13201', prefecture: '東京都', name: '八王子市', towns: ['元本郷町', '南大沢', '高尾町'], weight: 58 },
  { code: '13104', prefecture: '東京都', name: '新宿区', towns: ['西新宿', '高田馬場', '四谷'], weight: 35 },
  { code: '47201', prefecture: '沖縄県', name: '那覇市', towns: ['泉崎', '首里当蔵町', '小禄'], weight: 32 },
  { code: '13103', prefecture: '東京都', name: '港区', towns: ['芝浦', '白金台', '赤坂'], weight: 26 },
  { code: '13102', prefecture: '東京都', name: '中央区', towns: ['日本橋人形町', '月島', '築地'], weight: 17 },
  { code: '13101', prefecture: '東京都', name: '千代田区', towns: ['九段南', '神田神保町', '麹町'], weight: 7 },
];
