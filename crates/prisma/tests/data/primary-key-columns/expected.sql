-- DropIndex
DROP INDEX "A_b_idx";

-- DropIndex
DROP INDEX "A_a_b_key";

-- DropIndex
DROP INDEX "B_a_idx";

-- AlterTable
ALTER TABLE "A" DROP CONSTRAINT "A_pkey",
ADD CONSTRAINT "A_pkey" PRIMARY KEY ("a", "b");

-- AlterTable
ALTER TABLE "B" DROP CONSTRAINT "B_pkey",
ADD CONSTRAINT "B_pkey" PRIMARY KEY ("a");
