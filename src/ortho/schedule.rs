//! Coefficient schedules as data: one odd polynomial per step, a tail rule, a default step count
//! and the input normalization each published schedule was designed for.

use super::normalize::Normalize;
use crate::limits::{MAX_NS_STEPS, check};
use crate::{Error, Result};

/// One Newton–Schulz step `p(x) = a·x + b·x³ + c·x⁵`, applied to a matrix as
/// `X ← a·X + b·(XXᵀ)X + c·(XXᵀ)²X`. With `c = 0` the step is cubic and costs one product less.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quintic {
    /// Coefficient of `x`.
    pub a: f64,
    /// Coefficient of `x³`.
    pub b: f64,
    /// Coefficient of `x⁵` (`0` for a cubic step).
    pub c: f64,
}

impl Quintic {
    /// `p(x) = a·x + b·x³ + c·x⁵`.
    ///
    /// ```
    /// use mlkern::ortho::Quintic;
    /// assert_eq!(Quintic::new(1.5, -0.5, 0.0).eval(1.0), 1.0);
    /// ```
    pub const fn new(a: f64, b: f64, c: f64) -> Self {
        Quintic { a, b, c }
    }

    /// The scalar polynomial at `x` (the map every singular value of the normalized input goes
    /// through), evaluated in the kernel's operation order: `s = x²; ((b·s + c·s²) + a)·x` (the
    /// step matrix `b·A + c·A² + a·I` applied to `X`).
    pub fn eval(self, x: f64) -> f64 {
        let s = x * x;
        (self.b * s + self.c * (s * s) + self.a) * x
    }

    /// `p(x / s)` as a polynomial: `(a/s, b/s³, c/s⁵)` — the Polar Express safety factor.
    pub const fn scaled(self, s: f64) -> Self {
        let s3 = s * s * s;
        Quintic::new(self.a / s, self.b / s3, self.c / (s3 * s * s))
    }

    /// Whether the step is cubic (`c = 0`).
    pub const fn is_cubic(self) -> bool {
        self.c == 0.0
    }

    fn is_finite(self) -> bool {
        self.a.is_finite() && self.b.is_finite() && self.c.is_finite()
    }
}

/// What happens after the listed coefficients run out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Tail {
    /// Keep applying the last polynomial (Polar Express, CANS, DeepSeek-V4).
    #[default]
    RepeatLast,
    /// Start over from the first polynomial (fixed lists such as Keller Jordan's single tuple).
    Cycle,
}

/// A Newton–Schulz schedule: the polynomials, their tail rule, the default number of steps and the
/// normalization `X₀ = G / d` the coefficients were tuned for.
///
/// Presets are `const`s ([`KELLER_JORDAN`], [`POLAR_EXPRESS`], …); [`Schedule::custom`] builds
/// one from user coefficients (a `&'static` or borrowed slice: no allocation).
///
/// ```
/// use mlkern::ortho::{Quintic, Schedule, Tail, KELLER_JORDAN};
/// assert_eq!(KELLER_JORDAN.coefficient(4), Quintic::new(3.4445, -4.7750, 2.0315));
/// let mine = [Quintic::new(3.0, -3.2, 1.2), Quintic::new(1.875, -1.25, 0.375)];
/// let s = Schedule::custom(&mine, Tail::RepeatLast).with_steps(6);
/// assert_eq!(s.coefficient(5), mine[1]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Schedule<'s> {
    /// Short name (the CLI's `--schedule` value for presets, `"custom"` otherwise).
    pub name: &'s str,
    /// The per-step polynomials, applied in order.
    pub coefficients: &'s [Quintic],
    /// What to apply after `coefficients` runs out.
    pub tail: Tail,
    /// Number of steps to run, at most [`MAX_NS_STEPS`](crate::limits::MAX_NS_STEPS) (100, as
    /// `torch.optim.Muon`): [`validate`](Self::validate) rejects more with
    /// [`Error::TooLarge`](crate::Error::TooLarge) before any work.
    pub steps: usize,
    /// The normalization applied before the first step.
    pub normalize: Normalize,
}

impl<'s> Schedule<'s> {
    /// A user schedule: `steps = coefficients.len()`, Keller Jordan's normalizer
    /// `G / (‖G‖_F + 1e-7)`. A list longer than [`MAX_NS_STEPS`](crate::limits::MAX_NS_STEPS)
    /// runs more steps than any kernel accepts (see [`validate`](Self::validate)).
    pub const fn custom(coefficients: &'s [Quintic], tail: Tail) -> Self {
        Schedule {
            name: "custom",
            coefficients,
            tail,
            steps: coefficients.len(),
            normalize: Normalize::KELLER_JORDAN,
        }
    }

    /// The same schedule run for `steps` steps (at most
    /// [`MAX_NS_STEPS`](crate::limits::MAX_NS_STEPS) = 100 pass [`validate`](Self::validate)).
    pub const fn with_steps(mut self, steps: usize) -> Self {
        self.steps = steps;
        self
    }

    /// The same schedule with another normalization.
    pub const fn with_normalize(mut self, normalize: Normalize) -> Self {
        self.normalize = normalize;
        self
    }

    /// The polynomial of step `i` (0-based) under the tail rule. An empty coefficient list gives
    /// the identity step `p(x) = x` (rejected by [`validate`](Self::validate) when `steps > 0`).
    pub fn coefficient(&self, i: usize) -> Quintic {
        let n = self.coefficients.len();
        if n == 0 {
            return Quintic::new(1.0, 0.0, 0.0);
        }
        match self.tail {
            Tail::RepeatLast => self.coefficients[i.min(n - 1)],
            Tail::Cycle => self.coefficients[i % n],
        }
    }

    /// The composition `P(x) = p_T ∘ … ∘ p_1(x)` over [`steps`](Self::steps): the value one
    /// singular value `x = σ/d` of the normalized input ends at (exact arithmetic). A step count
    /// above [`MAX_NS_STEPS`](crate::limits::MAX_NS_STEPS), which no kernel runs, gives NaN at
    /// once instead of looping for hours.
    ///
    /// ```
    /// use mlkern::ortho::KELLER_JORDAN;
    /// // Keller Jordan's map does not converge to 1: 0.6 ends near 0.87 after 5 steps.
    /// let y = KELLER_JORDAN.eval(0.6);
    /// assert!((0.68..1.21).contains(&y));
    /// ```
    pub fn eval(&self, mut x: f64) -> f64 {
        if self.steps > MAX_NS_STEPS {
            return f64::NAN;
        }
        for i in 0..self.steps {
            x = self.coefficient(i).eval(x);
        }
        x
    }

    /// Checks that the schedule can run: at most [`MAX_NS_STEPS`](crate::limits::MAX_NS_STEPS)
    /// steps, coefficients finite, a non-empty list when `steps > 0`, and a valid normalization.
    ///
    /// # Errors
    /// [`Error::TooLarge`] naming `steps` for more than
    /// [`MAX_NS_STEPS`](crate::limits::MAX_NS_STEPS) steps; [`Error::InvalidParameter`] naming
    /// the offending part otherwise.
    ///
    /// ```
    /// use mlkern::limits::MAX_NS_STEPS;
    /// use mlkern::ortho::KELLER_JORDAN;
    /// assert!(KELLER_JORDAN.with_steps(MAX_NS_STEPS).validate().is_ok());
    /// assert!(KELLER_JORDAN.with_steps(1_000_000_000_000).validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<()> {
        check(self.steps, MAX_NS_STEPS, "steps")?;
        if self.steps > 0 && self.coefficients.is_empty() {
            return Err(Error::InvalidParameter {
                name: "schedule",
                reason: "has no coefficients but steps > 0",
            });
        }
        if !self.coefficients.iter().all(|q| q.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "schedule",
                reason: "coefficients must be finite",
            });
        }
        self.normalize.validate()
    }

    /// The preset with this CLI name (`keller`, `you`, `polar-express`, `polar-express-modded`,
    /// `cans`, `deepseek-v4`, `cubic`, `quintic`).
    ///
    /// ```
    /// use mlkern::ortho::{Schedule, POLAR_EXPRESS};
    /// assert_eq!(Schedule::by_name("polar-express"), Some(POLAR_EXPRESS));
    /// assert_eq!(Schedule::by_name("nope"), None);
    /// ```
    pub fn by_name(name: &str) -> Option<Schedule<'static>> {
        PRESETS.iter().copied().find(|s| s.name == name)
    }
}

/// Every preset, in CLI order.
pub const PRESETS: &[Schedule<'static>] = &[
    KELLER_JORDAN,
    YOU_5,
    POLAR_EXPRESS,
    POLAR_EXPRESS_MODDED,
    CANS_5,
    DEEPSEEK_V4_10,
    CUBIC,
    QUINTIC,
];

const KJ: Quintic = Quintic::new(3.4445, -4.7750, 2.0315);

/// Keller Jordan's Muon NS5: `(3.4445, −4.7750, 2.0315)` × 5, `G / (‖G‖_F + 1e-7)`.
/// Source: `KellerJordan/Muon` `muon.py` (HEAD 857d1ad); also `torch.optim.Muon`. Its scalar map
/// does not converge to 1: singular values land in ≈ [0.68, 1.20].
pub const KELLER_JORDAN: Schedule<'static> = Schedule {
    name: "keller",
    coefficients: &[KJ],
    tail: Tail::Cycle,
    steps: 5,
    normalize: Normalize::KELLER_JORDAN,
};

/// You Jiacheng's 5-step list (Dion `zeropower_via_newtonschulz5`, Gram-NS `YOU_COEFFICIENTS`,
/// NVIDIA Emerging-Optimizers `"quintic"`), `G / (‖G‖_F + 1e-7)`. Tail: repeat the last tuple
/// (NVIDIA cycles the list instead; this only matters for more than 5 steps).
/// Source: x.com/YouJiacheng/status/1905861218138804534.
pub const YOU_5: Schedule<'static> = Schedule {
    name: "you",
    coefficients: &[
        Quintic::new(4.0848, -6.8946, 2.9270),
        Quintic::new(3.9505, -6.3029, 2.6377),
        Quintic::new(3.7418, -5.5913, 2.3037),
        Quintic::new(2.8769, -3.1427, 1.2046),
        Quintic::new(2.8366, -3.0525, 1.2012),
    ],
    tail: Tail::RepeatLast,
    steps: 5,
    normalize: Normalize::KELLER_JORDAN,
};

/// The safety divisors exactly as the reference code computes them: Python's `1.01**3` and
/// `1.01**5` (the correctly rounded powers of the double nearest 1.01, which are one ulp above the
/// decimal values 1.030301 and 1.0510100501; `NoahAmsel/PolarExpress`, modded-nanogpt, Gram-NS).
const PE_SF: f64 = 1.01;
const PE_SF3: f64 = 1.0303010000000001;
const PE_SF5: f64 = 1.0510100501000001;

const fn pe_safe(a: f64, b: f64, c: f64) -> Quintic {
    Quintic::new(a / PE_SF, b / PE_SF3, c / PE_SF5)
}

/// Polar Express, the paper's list (Amsel, Persson, Musco, Gower, arXiv 2505.16932;
/// `NoahAmsel/PolarExpress` `polar_express/basic.py`): steps 1–7 use the raw minimax polynomials
/// divided by the safety factor 1.01 (`(a/1.01, b/1.01³, c/1.01⁵)`), step 8 and later the
/// unscaled limit `(15/8, −10/8, 3/8)`; 8 steps; normalizer `G / (1.01·‖G‖_F + 1e-7)`.
/// Eight steps reach the polar factor to ≈ 1e-5 in f32.
pub const POLAR_EXPRESS: Schedule<'static> = Schedule {
    name: "polar-express",
    coefficients: &[
        pe_safe(8.28721201814563, -23.595886519098837, 17.300387312530933),
        pe_safe(4.107059111542203, -2.9478499167379106, 0.5448431082926601),
        pe_safe(3.9486908534822946, -2.908902115962949, 0.5518191394370137),
        pe_safe(3.3184196573706015, -2.488488024314874, 0.51004894012372),
        pe_safe(2.300652019954817, -1.6689039845747493, 0.4188073119525673),
        pe_safe(1.891301407787398, -1.2679958271945868, 0.37680408948524835),
        pe_safe(1.8750014808534479, -1.2500016453999487, 0.3750001645474248),
        Quintic::new(1.875, -1.25, 0.375),
    ],
    tail: Tail::RepeatLast,
    steps: 8,
    normalize: Normalize::plus_eps(1.01, 1e-7),
};

/// Polar Express as shipped by modded-nanogpt (`train_gpt.py`, record 2025-09-29) and Dion
/// (`dion/polar_express.py`): 5 polynomials with the safety factor 1.02 already baked into steps
/// 1–4 (`l₀ = 1e-3`, cushion 0.02); normalizer `G / (1.02·‖G‖_F + 1e-6)`.
pub const POLAR_EXPRESS_MODDED: Schedule<'static> = Schedule {
    name: "polar-express-modded",
    coefficients: &[
        Quintic::new(8.156554524902461, -22.48329292557795, 15.878769915207462),
        Quintic::new(4.042929935166739, -2.808917465908714, 0.5000178451051316),
        Quintic::new(3.8916678022926607, -2.772484153217685, 0.5060648178503393),
        Quintic::new(3.285753657755655, -2.3681294933425376, 0.46449024233003106),
        Quintic::new(2.3465413258596377, -1.7097828382687081, 0.42323551169305323),
    ],
    tail: Tail::RepeatLast,
    steps: 5,
    normalize: Normalize::plus_eps(1.02, 1e-6),
};

/// CANS 5-step (Grishina, Smirnov, Rakhuba, arXiv 2506.10935; as listed by NVIDIA
/// Emerging-Optimizers `"cans"`), `G / (‖G‖_F + 1e-7)`. No safety factor: fine in f32/f64,
/// unstable in bf16.
pub const CANS_5: Schedule<'static> = Schedule {
    name: "cans",
    coefficients: &[
        Quintic::new(8.4703, -25.1081, 18.6293),
        Quintic::new(4.1828, -3.1087, 0.5806),
        Quintic::new(3.9619, -2.9541, 0.5630),
        Quintic::new(3.2866, -2.4647, 0.5074),
        Quintic::new(2.2737, -1.6447, 0.4162),
    ],
    tail: Tail::RepeatLast,
    steps: 5,
    normalize: Normalize::KELLER_JORDAN,
};

/// DeepSeek-V4's hybrid 10-step schedule: 8 × Keller Jordan then 2 × `(2, −1.5, 0.5)`
/// ("stabilize the singular values precisely at 1"; quoted in microsoft/dion#66 and PaddlePaddle
/// PR #78916), `G / (‖G‖_F + 1e-7)`.
pub const DEEPSEEK_V4_10: Schedule<'static> = Schedule {
    name: "deepseek-v4",
    coefficients: &[
        KJ,
        KJ,
        KJ,
        KJ,
        KJ,
        KJ,
        KJ,
        KJ,
        Quintic::new(2.0, -1.5, 0.5),
        Quintic::new(2.0, -1.5, 0.5),
    ],
    tail: Tail::RepeatLast,
    steps: 10,
    normalize: Normalize::KELLER_JORDAN,
};

/// Classical cubic Newton–Schulz `(1.5, −0.5, 0)` (Björck & Bowie 1971; Higham, *Functions of
/// Matrices*, §8.3): two products per step; 5 steps by default. Converges slowly from small
/// singular values (×1.5 per step). Not NVIDIA's tuned `"cubic5"` list.
pub const CUBIC: Schedule<'static> = Schedule {
    name: "cubic",
    coefficients: &[Quintic::new(1.5, -0.5, 0.0)],
    tail: Tail::Cycle,
    steps: 5,
    normalize: Normalize::KELLER_JORDAN,
};

/// Classical quintic Newton–Schulz `(15/8, −10/8, 3/8)` (`p'(1) = p''(1) = 0`; the Polar Express
/// limit polynomial); 5 steps by default. Not NVIDIA's `"quintic"` (which is [`YOU_5`]).
pub const QUINTIC: Schedule<'static> = Schedule {
    name: "quintic",
    coefficients: &[Quintic::new(1.875, -1.25, 0.375)],
    tail: Tail::Cycle,
    steps: 5,
    normalize: Normalize::KELLER_JORDAN,
};
